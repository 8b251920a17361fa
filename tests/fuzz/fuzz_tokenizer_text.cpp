// Arbitrary text through a fixed byte-level BPE tokenizer.json (SADI_FUZZ_TOKENIZER, set by
// CMake to tests/fuzz/data/byte_level.json): every id is in the vocabulary and valid UTF-8 text
// decodes back to itself (byte-level BPE loses nothing), and min_tokens (the bound that refuses
// over-length texts before tokenizing) never exceeds the real count.
#include <memory>

#include "fuzz_common.hpp"
#include "sadi/model/tokenizer.hpp"

namespace {
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<sadi::Tokenizer> tok = sadi::load_hf_tokenizer(SADI_FUZZ_TOKENIZER, {});
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto ids = tok->encode(text, false);
  if (tok->min_tokens(text) > static_cast<int64_t>(ids.size())) __builtin_trap();
  for (auto id : ids) {
    if (id < 0 || id >= tok->vocab_size()) __builtin_trap();
  }
  const std::string back = tok->decode(ids);
  // (text naming an added token such as <|eot_id|> becomes that token; left out of the check)
  if (valid_utf8(text) && text.find("<|") == std::string::npos && back != text) __builtin_trap();
  return 0;
}
