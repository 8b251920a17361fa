#include "sadi/eval/scoring.hpp"

#include <algorithm>
#include <cctype>

#include "sadi/core/strings.hpp"

namespace sadi {

const std::vector<std::string>& reference_punctuation() {
  static const std::vector<std::string> p = {".</s>", ".\n", ".", ";", "!", ",", "?", "\n", "</s>", "<pad>"};
  return p;
}

std::string normalize_answer(const std::string& text) {
  std::string s = text;
  for (const auto& p : reference_punctuation()) {
    for (size_t at = s.find(p); at != std::string::npos; at = s.find(p, at)) s.erase(at, p.size());
  }
  s = trim(s);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool exact_match(const std::string& predicted, const std::string& gold) {
  return normalize_answer(predicted) == normalize_answer(gold);
}

}  // namespace sadi
