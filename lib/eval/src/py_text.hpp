#pragma once
// Private to sadi_eval: Python's str operations that the reference code's exact match and
// TriviaQA's normalisation use, over UTF-8 text with Python's Unicode semantics (via ICU), so
// "Éire" lowercases to "éire" and a non-breaking space is stripped as Python strips it.
#include <string>
#include <vector>

namespace sadi::py {

std::string strip(const std::string& s);               // str.strip(): Python's whitespace both ends
std::string lower(const std::string& s);               // str.lower(): full Unicode lowercase mapping
std::vector<std::string> split(const std::string& s);  // str.split(): runs of Python's whitespace
// re.sub(r"\b(a|an|the)\b", " ", s) for a str pattern: whole runs of word characters (letters,
// numbers, '_') equal to a, an or the become a space.
std::string drop_articles(const std::string& s);

}  // namespace sadi::py
