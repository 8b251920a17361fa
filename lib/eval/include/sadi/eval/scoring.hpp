#pragma once
// Answer normalisation: the reference code's exact match and TriviaQA's (docs/eval.md).
#include <string>
#include <vector>

namespace sadi {

// The reference punctuation list, removed in this order: ".</s>", ".\n", ".", ";", "!", ",", "?",
// "\n", "</s>", "<pad>".
const std::vector<std::string>& reference_punctuation();

// How a teacher-forced greedy answer is compared with the gold answer.
// reference: the reference code's rule. The prediction is stripped of surrounding whitespace,
//   then every occurrence of each listed string is deleted (in list order; no strip after),
//   then lowercased; the gold answer is only stripped and lowercased.
// lenient: both sides have the listed strings deleted, then are stripped and lowercased (so
//   "positive ." and "U.S." / "US" match).
enum class MatchRule { kReference, kLenient };
MatchRule parse_match_rule(const std::string& s);  // reference | lenient
const char* match_rule_name(MatchRule r);

// The prediction side of `rule` (lenient: also the gold side).
std::string normalize_answer(const std::string& text, MatchRule rule = MatchRule::kReference);

bool exact_match(const std::string& predicted, const std::string& gold, MatchRule rule = MatchRule::kReference);

// TriviaQA's answer normalisation (its official evaluation script): '_' -> space, lowercase
// (ASCII), every ASCII punctuation character and the quotes U+2018, U+2019, U+00B4 -> space,
// the words a/an/the dropped, whitespace collapsed.
std::string normalize_triviaqa(const std::string& text);

// True when the normalised prediction equals any normalised gold answer.
bool triviaqa_match(const std::string& predicted, const std::vector<std::string>& golds);

}  // namespace sadi
