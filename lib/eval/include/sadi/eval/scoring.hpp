#pragma once
// The reference code's exact-match normalisation (docs/eval.md).
#include <string>
#include <vector>

namespace sadi {

// The reference punctuation list, removed in this order: ".</s>", ".\n", ".", ";", "!", ",", "?",
// "\n", "</s>", "<pad>".
const std::vector<std::string>& reference_punctuation();

// Removes every occurrence of each listed string (in list order), trims spaces, lowercases ASCII.
std::string normalize_answer(const std::string& text);

bool exact_match(const std::string& predicted, const std::string& gold);

}  // namespace sadi
