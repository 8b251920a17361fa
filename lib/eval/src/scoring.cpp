#include "sadi/eval/scoring.hpp"

#include <algorithm>
#include <cctype>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

#include "sadi/core/named.hpp"

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

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string delete_punctuation(std::string s) {
  for (const auto& p : reference_punctuation()) {
    for (size_t at = s.find(p); at != std::string::npos; at = s.find(p, at)) s.erase(at, p.size());
  }
  return s;
}

}  // namespace

std::string normalize_answer(const std::string& text, MatchRule rule) {
  if (rule == MatchRule::kReference) return lower(delete_punctuation(trim(text)));
  return lower(trim(delete_punctuation(text)));
}

bool exact_match(const std::string& predicted, const std::string& gold, MatchRule rule) {
  const std::string g = rule == MatchRule::kReference ? lower(trim(gold)) : normalize_answer(gold, rule);
  return normalize_answer(predicted, rule) == g;
}

std::string normalize_triviaqa(const std::string& text) {
  static const std::vector<std::string> quotes = {"\u2018", "\u2019", "\u00b4"};
  std::string s;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    bool quote = false;
    for (const auto& q : quotes) {
      if (text.compare(i, q.size(), q) == 0) {
        s += ' ';
        i += q.size();
        quote = true;
        break;
      }
    }
    if (quote) continue;
    if (c == '_' || (c < 0x80 && std::ispunct(c))) {
      s += ' ';
    } else {
      s += static_cast<char>(std::tolower(c));
    }
    ++i;
  }
  std::vector<std::string> words;  // split on ASCII whitespace
  std::string w;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) {
      w += s[i];
      continue;
    }
    if (!w.empty() && w != "a" && w != "an" && w != "the") words.push_back(w);
    w.clear();
  }
  return join(words, " ");
}

bool triviaqa_match(const std::string& predicted, const std::vector<std::string>& golds) {
  const std::string p = normalize_triviaqa(predicted);
  return std::any_of(golds.begin(), golds.end(), [&](const std::string& g) { return normalize_triviaqa(g) == p; });
}

}  // namespace sadi
