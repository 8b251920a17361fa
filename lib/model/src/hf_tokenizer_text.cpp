#include "hf_tokenizer_text.hpp"

#include <unicode/unistr.h>

#include <algorithm>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi::hf {

ByteTable::ByteTable() {
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    const UChar32 cp = printable ? b : 256 + extra++;
    std::string s;
    icu::UnicodeString(cp).toUTF8String(s);
    to_char[static_cast<size_t>(b)] = s;
    to_byte[s] = static_cast<uint8_t>(b);
  }
}

const ByteTable& byte_table() {
  static const ByteTable t;
  return t;
}

std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    n = std::min(n, s.size() - i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

RegexSplit::RegexSplit(const std::string& pattern, const std::string& where) {
  UErrorCode status = U_ZERO_ERROR;
  UParseError pe;
  pattern_.reset(icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(pattern), 0, pe, status));
  if (U_FAILURE(status)) throw_input(str(where, ": cannot compile the regex: ", u_errorName(status)));
}

std::vector<std::string> RegexSplit::split(const std::string& text) const {
  std::vector<std::string> out;
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(text);
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> m(pattern_->matcher(u, status));
  int32_t last = 0;
  auto piece = [&](int32_t a, int32_t b) {
    if (b <= a) return;
    std::string s;
    u.tempSubStringBetween(a, b).toUTF8String(s);
    out.push_back(std::move(s));
  };
  while (m->find(status) && U_SUCCESS(status)) {
    const int32_t a = m->start(status), b = m->end(status);
    if (b == a) continue;  // empty matches split nothing
    piece(last, a);
    piece(a, b);
    last = b;
  }
  piece(last, u.length());
  return out;
}

}  // namespace sadi::hf
