#pragma once
// Answer normalisation: the reference code's exact match and TriviaQA's (docs/eval.md).
#include <string>
#include <vector>

namespace sadi {

// The reference punctuation list, removed in this order: ".</s>", ".\n", ".", ";", "!", ",", "?",
// "\n", "</s>", "<pad>".
const std::vector<std::string>& reference_punctuation();

// Removes every occurrence of each listed string (in list order), trims spaces, lowercases ASCII.
std::string normalize_answer(const std::string& text);

bool exact_match(const std::string& predicted, const std::string& gold);

// TriviaQA's answer normalisation (its official evaluation script): '_' -> space, lowercase
// (ASCII), every ASCII punctuation character and the quotes U+2018, U+2019, U+00B4 -> space,
// the words a/an/the dropped, whitespace collapsed.
std::string normalize_triviaqa(const std::string& text);

// True when the normalised prediction equals any normalised gold answer.
bool triviaqa_match(const std::string& predicted, const std::vector<std::string>& golds);

}  // namespace sadi
