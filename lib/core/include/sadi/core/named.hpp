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

// "a, b or c": the names of `table`, in order (for messages).
template <typename E, size_t N>
std::string names_of(const Named<E> (&table)[N]) {
  std::string names;
  for (size_t i = 0; i < N; ++i) names += str(i == 0 ? "" : (i + 1 == N ? " or " : ", "), table[i].name);
  return names;
}

// The value named `s`, if any.
template <typename E, size_t N>
const E* find_named(const Named<E> (&table)[N], const std::string& s) {
  for (const auto& n : table) {
    if (s == n.name) return &n.value;
  }
  return nullptr;
}

// The value named `s`; throws sadi::Error (usage) about `field`: "FIELD: expected a, b or c,
// found 's'" (a command names its flag instead: apps/sadi/options.hpp).
template <typename E, size_t N>
E parse_named(const Named<E> (&table)[N], const std::string& s, const std::string& field) {
  if (const E* v = find_named(table, s)) return *v;
  throw_field(ErrorKind::kUsage, field, str(": expected ", names_of(table), ", found '", s, "'"));
}

}  // namespace sadi
