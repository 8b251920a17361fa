#include "py_text.hpp"

#include <unicode/uchar.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

namespace sadi::py {
namespace {

icu::UnicodeString from_utf8(const std::string& s) {  // invalid bytes become U+FFFD, as Python's decode
  return icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
}

std::string to_utf8(const icu::UnicodeString& u) {
  std::string out;
  u.toUTF8String(out);
  return out;
}

// Py_UNICODE_ISSPACE: general category Zs, or bidirectional class WS, B or S (so NBSP, NEL and
// the ASCII separators \x1c-\x1f are whitespace; a zero-width space is not).
bool is_space(UChar32 c) {
  if (u_charType(c) == U_SPACE_SEPARATOR) return true;
  const UCharDirection d = u_charDirection(c);
  return d == U_WHITE_SPACE_NEUTRAL || d == U_BLOCK_SEPARATOR || d == U_SEGMENT_SEPARATOR;
}

// \w of Python's re for str patterns: str.isalnum() (letters Lu Ll Lt Lm Lo, any numeric type) or '_'.
bool is_word(UChar32 c) {
  if (c == '_') return true;
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER: return true;
    default: return u_getIntPropertyValue(c, UCHAR_NUMERIC_TYPE) != U_NT_NONE;
  }
}

}  // namespace

std::string strip(const std::string& s) {
  const icu::UnicodeString u = from_utf8(s);
  int32_t begin = 0, end = u.length();
  while (begin < end && is_space(u.char32At(begin))) begin = u.moveIndex32(begin, 1);
  while (end > begin) {
    const int32_t prev = u.moveIndex32(end, -1);
    if (!is_space(u.char32At(prev))) break;
    end = prev;
  }
  return to_utf8(icu::UnicodeString(u, begin, end - begin));
}

std::string lower(const std::string& s) {
  icu::UnicodeString u = from_utf8(s);
  u.toLower(icu::Locale::getRoot());
  return to_utf8(u);
}

std::vector<std::string> split(const std::string& s) {
  const icu::UnicodeString u = from_utf8(s);
  std::vector<std::string> out;
  icu::UnicodeString word;
  for (int32_t i = 0; i < u.length(); i = u.moveIndex32(i, 1)) {
    const UChar32 c = u.char32At(i);
    if (!is_space(c)) {
      word.append(c);
      continue;
    }
    if (!word.isEmpty()) out.push_back(to_utf8(word));
    word.remove();
  }
  if (!word.isEmpty()) out.push_back(to_utf8(word));
  return out;
}

std::string drop_articles(const std::string& s) {
  const icu::UnicodeString u = from_utf8(s);
  icu::UnicodeString out, run;
  auto flush = [&] {
    out.append(run == u"a" || run == u"an" || run == u"the" ? icu::UnicodeString(u" ") : run);
    run.remove();
  };
  for (int32_t i = 0; i < u.length(); i = u.moveIndex32(i, 1)) {
    const UChar32 c = u.char32At(i);
    if (is_word(c)) {
      run.append(c);
      continue;
    }
    flush();
    out.append(c);
  }
  flush();
  return to_utf8(out);
}

}  // namespace sadi::py
