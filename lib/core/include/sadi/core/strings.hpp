#pragma once
// Small string helpers used across the library (no torch, no fmt in headers).
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace sadi {

// Concatenates the stream representation of every argument: str("k=", 3) == "k=3".
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string trim(std::string_view s);


// Renders a shape or list as "[a, b, c]".
template <typename Seq>
std::string list_str(const Seq& seq) {
  std::ostringstream os;
  os << '[';
  bool first = true;
  for (const auto& v : seq) {
    if (!first) os << ", ";
    os << v;
    first = false;
  }
  os << ']';
  return os.str();
}

// The printable ASCII bytes (0x21-0x7E) of `text`: no tokenizer normalizer sadi reads removes
// one, so with at most B of them per token a text needs at least this / B tokens (tokenizer.hpp).
int64_t printable_ascii_bytes(std::string_view text);

}  // namespace sadi
