#pragma once
// Shared by the tokenizer.json and sentencepiece tests: Tokenizer::min_tokens, the bound that
// refuses over-length texts before tokenizing them, never exceeds the real count on whitespace
// runs, digits and a long English text, and on the English text is within a factor 100 of it (so
// a text 100 times over a limit is refused untokenized).
#include <gtest/gtest.h>

#include <string>

#include "sadi/core/json.hpp"
#include "sadi/model/tokenizer.hpp"

inline void expect_min_tokens_bounds(const sadi::Tokenizer& tok, const std::string& label) {
  auto count = [&](const std::string& text) { return static_cast<int64_t>(tok.encode(text, false).size()); };
  // whitespace runs (no printable byte: tokens of many spaces count for nothing) and digits
  for (const std::string& unit : {std::string("x") + std::string(200, ' '), std::string("1234567890\n\t")}) {
    std::string text;
    for (int i = 0; i < 300; ++i) text += unit;
    EXPECT_LE(tok.min_tokens(text), count(text)) << label << ": " << sadi::dump_json(unit);
  }
  std::string english;
  for (int i = 0; i < 400; ++i) english += "The quick brown fox jumps over the lazy dog; 42 sheep (and 7 goats) agree. ";
  const int64_t n = count(english);
  EXPECT_LE(tok.min_tokens(english), n) << label;
  EXPECT_GT(tok.min_tokens(english) * 100, n) << label << ": the bound is too loose to be of use";
}
