#pragma once
// Named<E>: the one table pattern for every enum sadi reads or writes by name (methods, modes,
// positions, read positions, ranking rules, metrics, exact-match rules, ...). A vocabulary is a
// constexpr array of {value, name}; its names, its parsing and its documented order all come
// from that array, so they cannot drift apart.
#include <cstddef>
#include <string>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

template <typename E>
struct Named {
  E value;
  const char* name;
};

// The name of `v` in `table` ("?" for a value the table lacks).
template <typename E, size_t N>
const char* name_of(const Named<E> (&table)[N], E v) {
  for (const auto& n : table) {
    if (n.value == v) return n.name;
  }
  return "?";
}

// The value named `s`; throws sadi::Error (usage) about `field`: "FIELD: expected a, b or c,
// found 's'" (a command names its flag instead: apps/sadi/options.hpp).
template <typename E, size_t N>
E parse_named(const Named<E> (&table)[N], const std::string& s, const std::string& field) {
  std::string names;
  for (size_t i = 0; i < N; ++i) {
    if (s == table[i].name) return table[i].value;
    names += str(i == 0 ? "" : (i + 1 == N ? " or " : ", "), table[i].name);
  }
  throw_field(ErrorKind::kUsage, field, str(": expected ", names, ", found '", s, "'"));
}

}  // namespace sadi
