#include "sadi/core/shard.hpp"

#include <stdexcept>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

std::string Shard::name() const { return str(index, "/", count); }

Shard parse_shard(const std::string& s) {
  const auto parts = split(s, '/');
  Shard sh;
  try {
    if (parts.size() != 2) throw std::invalid_argument(s);
    size_t a = 0, b = 0;
    sh.index = std::stoll(parts[0], &a);
    sh.count = std::stoll(parts[1], &b);
    if (a != parts[0].size() || b != parts[1].size()) throw std::invalid_argument(s);
  } catch (const std::exception&) {
    throw_field(ErrorKind::kUsage, "shard", str(": expected I/N (e.g. 2/8), found '", s, "'"));
  }
  if (sh.count < 1 || sh.index < 1 || sh.index > sh.count) {
    throw_field(ErrorKind::kUsage, "shard", str(": expected 1 <= I <= N, found '", s, "'"));
  }
  return sh;
}

}  // namespace sadi
