#include "sadi/eval/scoring.hpp"

#include <algorithm>
#include <cctype>

#include "py_text.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/named.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

const std::vector<std::string>& reference_punctuation() {
  static const std::vector<std::string> p = {".</s>", ".\n", ".", ";", "!", ",", "?", "\n", "</s>", "<pad>"};
  return p;
}

namespace {
constexpr Named<MatchRule> kMatchRules[] = {{MatchRule::kReference, "reference"}, {MatchRule::kLenient, "lenient"}};
}  // namespace

MatchRule parse_match_rule(const std::string& s) { return parse_named(kMatchRules, s, "em_rule"); }
const char* match_rule_name(MatchRule r) { return name_of(kMatchRules, r); }

namespace {

std::string delete_punctuation(std::string s) {
  for (const auto& p : reference_punctuation()) {
    for (size_t at = s.find(p); at != std::string::npos; at = s.find(p, at)) s.erase(at, p.size());
  }
  return s;
}

}  // namespace

// Python's strip and lower (py_text.hpp): Unicode whitespace and case, as the reference code's.
std::string normalize_answer(const std::string& text, MatchRule rule) {
  if (rule == MatchRule::kReference) return py::lower(delete_punctuation(py::strip(text)));
  return py::lower(py::strip(delete_punctuation(text)));
}

bool exact_match(const std::string& predicted, const std::string& gold, MatchRule rule) {
  const std::string g = rule == MatchRule::kReference ? py::lower(py::strip(gold)) : normalize_answer(gold, rule);
  return normalize_answer(predicted, rule) == g;
}

// TriviaQA's official normalisation in its order: '_' to a space, lowercase, ASCII punctuation
// and the quotes U+2018 U+2019 U+00B4 to spaces, the articles a/an/the dropped, whitespace
// collapsed (Python's str semantics throughout).
std::string normalize_triviaqa(const std::string& text) {
  static const std::vector<std::string> quotes = {"\u2018", "\u2019", "\u00b4"};
  std::string t = text;
  std::replace(t.begin(), t.end(), '_', ' ');
  t = py::lower(t);
  std::string s;
  for (size_t i = 0; i < t.size();) {
    const auto c = static_cast<unsigned char>(t[i]);
    const auto q = std::find_if(quotes.begin(), quotes.end(), [&](const std::string& x) { return t.compare(i, x.size(), x) == 0; });
    if (q != quotes.end()) {
      s += ' ';
      i += q->size();
    } else {
      s += c < 0x80 && std::ispunct(c) ? ' ' : t[i];
      ++i;
    }
  }
  return join(py::split(py::drop_articles(s)), " ");
}

bool triviaqa_match(const std::string& predicted, const std::vector<std::string>& golds) {
  const std::string p = normalize_triviaqa(predicted);
  return std::any_of(golds.begin(), golds.end(), [&](const std::string& g) { return normalize_triviaqa(g) == p; });
}

}  // namespace sadi
