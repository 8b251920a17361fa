#pragma once
// Text helpers of the tokenizer.json reader (hf_tokenizer.cpp), private to lib/model: GPT-2's
// byte <-> character table, code points, and ICU regex splitting.
#include <unicode/regex.h>

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace sadi::hf {

// GPT-2's byte <-> printable character table (bytes_to_unicode).
struct ByteTable {
  std::array<std::string, 256> to_char;           // byte -> UTF-8 of its stand-in character
  std::unordered_map<std::string, uint8_t> to_byte;
  ByteTable();
};
const ByteTable& byte_table();

// Splits UTF-8 text into code points (each as its UTF-8 bytes).
std::vector<std::string> code_points(const std::string& s);

// GPT-2's pre-tokenizer pattern (ByteLevel with use_regex).
extern const char* const kGpt2Pattern;

// A regex split (behavior Isolated: matches and the text between them are all pieces).
class RegexSplit {
 public:
  // Throws sadi::Error (input) naming `where` when the pattern does not compile.
  RegexSplit(const std::string& pattern, const std::string& where);
  std::vector<std::string> split(const std::string& text) const;

 private:
  std::unique_ptr<icu::RegexPattern> pattern_;
};

}  // namespace sadi::hf
