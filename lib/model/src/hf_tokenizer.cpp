// Hugging Face tokenizer.json: BPE models (byte-level: GPT-2, Llama 3, Qwen, SmolLM; sentencepiece-style
// with byte fallback: Llama 2), the normalizers, pre-tokenizers and decoders those files use, and
// added tokens. ICU supplies Unicode regular expressions (\p{L}, look-ahead) and NFC
// (docs/dependencies.md). Checked token for token against Hugging Face's `tokenizers` (PyPI) on
// llama.cpp's real vocabularies (tests/tokenizer). Anything else in a tokenizer.json is refused, naming the key.
#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <climits>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/tokenizer.hpp"
#include "hf_tokenizer_text.hpp"

namespace sadi {
namespace {

using hf::byte_table;
using hf::code_points;
using hf::kGpt2Pattern;
using hf::RegexSplit;

// One pre-tokenizer step: splits every piece further and/or maps its bytes.
struct PreStep {
  std::unique_ptr<RegexSplit> split;
  bool byte_level = false;
  bool add_prefix_space = false;
};

struct AddedToken {
  std::string content;
  int64_t id;
  bool special;
};

class HfTokenizer final : public Tokenizer {
 public:
  HfTokenizer(const std::string& path, std::vector<int64_t> bos_ids) : bos_(std::move(bos_ids)) {
    const Json root = parse_json(read_text_file(path), path);
    const JsonView v(root, path);
    load_model(v.object("model"), path);
    load_added(root.value("added_tokens", Json::array()), path);
    load_normalizer(root.value("normalizer", Json()), path, "normalizer");
    if (root.contains("pre_tokenizer")) load_pre(root["pre_tokenizer"], path, "pre_tokenizer");
    load_decoder(root.value("decoder", Json()), path, "decoder");
    max_token_bytes_ = max_token_bytes();
  }

  int64_t min_tokens(std::string_view text) const override {
    return max_token_bytes_ > 0 ? printable_ascii_bytes(text) / max_token_bytes_ : 0;
  }

  std::vector<int64_t> encode(std::string_view text, bool add_bos) const override {
    std::vector<int64_t> ids;
    if (add_bos && !bos_.empty()) ids.push_back(bos_.front());
    std::string rest(text);
    while (!rest.empty()) {  // added tokens first: the leftmost, longest match
      size_t at = std::string::npos, len = 0;
      int64_t id = -1;
      for (const auto& a : added_) {
        const size_t p = rest.find(a.content);
        if (p != std::string::npos && (p < at || (p == at && a.content.size() > len))) {
          at = p;
          len = a.content.size();
          id = a.id;
        }
      }
      encode_plain(rest.substr(0, std::min(at, rest.size())), ids);
      if (at == std::string::npos) break;
      ids.push_back(id);
      rest = rest.substr(at + len);
    }
    return ids;
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::vector<std::string> toks;
    for (int64_t id : ids) {
      if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) continue;
      if (special_ids_.count(id)) continue;  // special tokens render as nothing
      toks.push_back(id_to_token_[static_cast<size_t>(id)]);
    }
    if (decode_byte_level_) {
      std::string out;
      for (const auto& t : toks) {
        for (const auto& cp : code_points(t)) {
          auto it = byte_table().to_byte.find(cp);
          if (it != byte_table().to_byte.end()) {
            out += static_cast<char>(it->second);
          } else {
            out += cp;  // an added token's own text
          }
        }
      }
      return strip_leading_spaces(valid_utf8(out));  // a Strip after ByteLevel (transformers' GGUF conversion)
    }
    // Metaspace-style (Llama 2): "▁" -> " ", <0xXX> runs -> bytes, join, strip one leading space.
    std::string out, bytes;
    auto flush = [&] {
      out += valid_utf8(bytes);
      bytes.clear();
    };
    for (const auto& t : toks) {
      if (decode_byte_fallback_ && t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>') {
        bytes += static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16));
        continue;
      }
      flush();
      out += replace_all(t, "\xE2\x96\x81", " ");
    }
    flush();
    return strip_leading_spaces(out);
  }

  int64_t vocab_size() const override { return static_cast<int64_t>(id_to_token_.size()); }
  std::string kind() const override { return "hf-tokenizer-json"; }

 private:
  // The decoder's Strip: up to strip_start_ leading spaces.
  std::string strip_leading_spaces(std::string s) const {
    for (int i = 0; i < strip_start_ && !s.empty() && s[0] == ' '; ++i) s.erase(0, 1);
    return s;
  }

  static std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
    return s;
  }

  // Invalid UTF-8 sequences become U+FFFD (as the reference decoders do).
  static std::string valid_utf8(const std::string& s) {
    std::string out;
    icu::UnicodeString::fromUTF8(s).toUTF8String(out);
    return out;
  }

  void load_model(const JsonView& m, const std::string& path) {
    if (m.string("type") != "BPE") m.fail("type", "\"BPE\" (the only tokenizer.json model supported)");
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (m.has(k) && !m.raw(k).is_null() && m.raw(k) != "") m.fail(k, "null or \"\"");
    }
    if (m.has("dropout") && !m.raw("dropout").is_null() && m.raw("dropout") != 0) m.fail("dropout", "null");
    byte_fallback_ = m.has("byte_fallback") && m.raw("byte_fallback").is_boolean() && m.boolean("byte_fallback");
    ignore_merges_ = m.has("ignore_merges") && m.raw("ignore_merges").is_boolean() && m.boolean("ignore_merges");
    fuse_unk_ = m.has("fuse_unk") && m.raw("fuse_unk").is_boolean() && m.boolean("fuse_unk");
    const Json& vocab = m.raw("vocab");
    if (!vocab.is_object()) m.fail("vocab", "an object {token: id}");
    for (const auto& [tok, id] : vocab.items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0) m.fail("vocab", "non-negative integer ids");
      const auto i = id.get<int64_t>();
      vocab_[tok] = i;
      if (static_cast<size_t>(i) >= id_to_token_.size()) id_to_token_.resize(static_cast<size_t>(i) + 1);
      id_to_token_[static_cast<size_t>(i)] = tok;
    }
    if (m.has("unk_token") && m.raw("unk_token").is_string()) {
      auto it = vocab_.find(m.string("unk_token"));
      if (it == vocab_.end()) m.fail("unk_token", "a token of the vocabulary");
      unk_ = it->second;
    }
    const Json& merges = m.raw("merges");
    if (!merges.is_array()) m.fail("merges", "a list of merges");
    int64_t rank = 0;
    for (const auto& e : merges) {
      std::string a, b;
      if (e.is_string()) {  // "a b"
        const std::string s = e.get<std::string>();
        const size_t sp = s.find(' ', 1);
        if (sp == std::string::npos) m.fail("merges", str("\"A B\" or [\"A\", \"B\"] entries (entry ", rank, ")"));
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        a = e[0].get<std::string>();
        b = e[1].get<std::string>();
      } else {
        m.fail("merges", str("\"A B\" or [\"A\", \"B\"] entries (entry ", rank, ")"));
      }
      auto ia = vocab_.find(a), ib = vocab_.find(b), iab = vocab_.find(a + b);
      if (ia == vocab_.end() || ib == vocab_.end() || iab == vocab_.end()) {
        throw_input(str(path, ": key 'model.merges': entry ", rank, " (\"", a, "\", \"", b,
                        "\") uses a token missing from the vocabulary"));
      }
      merges_.emplace(pair_key(ia->second, ib->second), std::make_pair(rank++, iab->second));
    }
  }

  void load_added(const Json& added, const std::string& path) {
    for (const auto& a : added) {
      const JsonView v(a, path, "added_tokens[]");
      AddedToken t{v.string("content"), v.integer("id"), v.has("special") && v.boolean("special")};
      if (t.content.empty()) continue;
      if (static_cast<size_t>(t.id) >= id_to_token_.size()) id_to_token_.resize(static_cast<size_t>(t.id) + 1);
      id_to_token_[static_cast<size_t>(t.id)] = t.content;
      if (t.special) special_ids_.insert({t.id, true});
      added_.push_back(std::move(t));
    }
  }

  void load_normalizer(const Json& n, const std::string& path, const std::string& key) {
    if (n.is_null()) return;
    const JsonView v(n, path, key);
    const std::string type = v.string("type");
    if (type == "Sequence") {
      const Json& list = v.raw("normalizers");
      for (size_t i = 0; i < list.size(); ++i) load_normalizer(list[i], path, str(key, ".normalizers[", i, "]"));
    } else if (type == "NFC") {
      nfc_ = true;
    } else if (type == "Prepend") {
      prepend_ = v.string("prepend");
    } else if (type == "Replace") {
      const JsonView pat = v.object("pattern");
      if (!pat.has("String")) pat.fail("String", "a plain string pattern");
      replaces_.emplace_back(pat.string("String"), v.string("content"));
    } else {
      v.fail("type", "Sequence, NFC, Prepend or Replace");
    }
  }

  void load_pre(const Json& p, const std::string& path, const std::string& key) {
    if (p.is_null()) return;
    const JsonView v(p, path, key);
    const std::string type = v.string("type");
    if (type == "Sequence") {
      const Json& list = v.raw("pretokenizers");
      for (size_t i = 0; i < list.size(); ++i) load_pre(list[i], path, str(key, ".pretokenizers[", i, "]"));
    } else if (type == "Split") {
      const JsonView pat = v.object("pattern");
      if (!pat.has("Regex")) pat.fail("Regex", "a regex pattern");
      if (v.string("behavior") != "Isolated") v.fail("behavior", "\"Isolated\"");
      if (v.has("invert") && v.boolean("invert")) v.fail("invert", "false");
      PreStep s;
      s.split = std::make_unique<RegexSplit>(pat.string("Regex"), v.where("pattern"));
      pre_.push_back(std::move(s));
    } else if (type == "Digits") {  // SmolLM's: every digit its own piece (\p{N}: Rust's char::is_numeric)
      PreStep s;
      const bool single = v.has("individual_digits") && v.boolean("individual_digits");
      s.split = std::make_unique<RegexSplit>(single ? R"(\p{N})" : R"(\p{N}+)", key);
      pre_.push_back(std::move(s));
    } else if (type == "ByteLevel") {
      PreStep s;
      s.byte_level = true;
      s.add_prefix_space = v.has("add_prefix_space") && v.boolean("add_prefix_space");
      if (!v.has("use_regex") || v.boolean("use_regex")) s.split = std::make_unique<RegexSplit>(kGpt2Pattern, key);
      pre_.push_back(std::move(s));
    } else {
      v.fail("type", "Sequence, Split, Digits or ByteLevel");
    }
  }

  void load_decoder(const Json& d, const std::string& path, const std::string& key) {
    if (d.is_null()) return;
    const JsonView v(d, path, key);
    const std::string type = v.string("type");
    if (type == "Sequence") {
      const Json& list = v.raw("decoders");
      for (size_t i = 0; i < list.size(); ++i) load_decoder(list[i], path, str(key, ".decoders[", i, "]"));
    } else if (type == "ByteLevel") {
      decode_byte_level_ = true;
    } else if (type == "ByteFallback") {
      decode_byte_fallback_ = true;
    } else if (type == "Fuse") {
    } else if (type == "Replace") {
      const JsonView pat = v.object("pattern");
      if (pat.string("String") != "\xE2\x96\x81" || v.string("content") != " ") v.fail("pattern", "\"\u2581\" -> \" \"");
    } else if (type == "Strip") {
      if (v.string("content") != " " || v.integer("stop") != 0) v.fail("content", "\" \" stripped at the start");
      strip_start_ = static_cast<int>(v.integer("start"));
    } else {
      v.fail("type", "Sequence, ByteLevel, ByteFallback, Fuse, Replace or Strip");
    }
  }

  static uint64_t pair_key(int64_t a, int64_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b); }

  std::string normalize(const std::string& s) const {
    if (s.empty()) return s;
    std::string out = s;
    if (nfc_) {
      UErrorCode status = U_ZERO_ERROR;
      const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
      out.clear();
      nfc->normalize(icu::UnicodeString::fromUTF8(s), status).toUTF8String(out);
    }
    out = prepend_ + out;
    for (const auto& [from, to] : replaces_) out = replace_all(out, from, to);
    return out;
  }

  void encode_plain(const std::string& text, std::vector<int64_t>& ids) const {
    if (text.empty()) return;
    std::vector<std::string> pieces{normalize(text)};
    for (const auto& step : pre_) {
      std::vector<std::string> next;
      for (auto& p : pieces) {
        if (step.add_prefix_space && p.rfind(' ', 0) != 0) p = " " + p;
        std::vector<std::string> parts = step.split ? step.split->split(p) : std::vector<std::string>{p};
        for (auto& part : parts) {
          if (step.byte_level) {
            std::string mapped;
            for (unsigned char c : part) mapped += byte_table().to_char[c];
            part = std::move(mapped);
          }
          next.push_back(std::move(part));
        }
      }
      pieces = std::move(next);
    }
    for (const auto& w : pieces) bpe(w, ids);
  }

  // BPE on one pre-token: code points -> ids (byte fallback / unk), then merges by rank.
  void bpe(const std::string& word, std::vector<int64_t>& ids) const {
    if (ignore_merges_) {
      auto it = vocab_.find(word);
      if (it != vocab_.end()) {
        ids.push_back(it->second);
        return;
      }
    }
    {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      auto it = cache_.find(word);
      if (it != cache_.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int64_t> syms;
    for (const auto& cp : code_points(word)) {
      auto it = vocab_.find(cp);
      if (it != vocab_.end()) {
        syms.push_back(it->second);
      } else if (byte_fallback_) {
        for (unsigned char c : cp) {
          static const char* hex = "0123456789ABCDEF";
          auto b = vocab_.find(str("<0x", hex[c >> 4], hex[c & 15], ">"));
          syms.push_back(b != vocab_.end() ? b->second : unk_);
        }
      } else {
        syms.push_back(unk_);
      }
    }
    while (syms.size() > 1) {
      int64_t best_rank = INT64_MAX, best_id = -1;
      size_t best_at = 0;
      for (size_t i = 0; i + 1 < syms.size(); ++i) {
        if (syms[i] < 0 || syms[i + 1] < 0) continue;
        auto it = merges_.find(pair_key(syms[i], syms[i + 1]));
        if (it != merges_.end() && it->second.first < best_rank) {
          best_rank = it->second.first;
          best_id = it->second.second;
          best_at = i;
        }
      }
      if (best_id < 0) break;
      syms[best_at] = best_id;
      syms.erase(syms.begin() + static_cast<long>(best_at) + 1);
    }
    std::vector<int64_t> out;
    for (int64_t s : syms) {
      if (s < 0) throw_input(str("tokenizer.json: cannot encode '", word, "': no unk_token and no byte fallback"));
      if (fuse_unk_ && s == unk_ && !out.empty() && out.back() == unk_) continue;
      out.push_back(s);
    }
    ids.insert(ids.end(), out.begin(), out.end());
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < 100000) cache_.emplace(word, std::move(out));
  }

  // The most printable ASCII bytes one token stands for: the printable ASCII characters of its
  // string (byte-level symbols map exactly the printable ASCII bytes to themselves; "▁" and
  // "Ġ" are not ASCII; "<0x41>" counts 6 for 1 byte, which only loosens the bound). 0 (no bound)
  // where unknown characters fuse into one token, or a Replace normalizer shortens text.
  int64_t max_token_bytes() const {
    if (fuse_unk_ && !all_bytes_in_vocab()) return 0;
    for (const auto& [pattern, content] : replaces_) {
      if (content.size() < pattern.size()) return 0;
    }
    int64_t most = 1;
    for (const auto& t : id_to_token_) most = std::max(most, printable_ascii_bytes(t));
    return most;
  }

  // No character can become the unknown token: a byte-level pre-tokenizer with all 256 byte
  // symbols in the vocabulary, or byte fallback with all 256 byte tokens.
  bool all_bytes_in_vocab() const {
    const bool byte_level = std::any_of(pre_.begin(), pre_.end(), [](const PreStep& p) { return p.byte_level; });
    char name[8];
    for (int b = 0; b < 256; ++b) {
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      const bool known = (byte_level && vocab_.count(byte_table().to_char[static_cast<size_t>(b)])) ||
                         (byte_fallback_ && vocab_.count(name));
      if (!known) return false;
    }
    return true;
  }

  std::vector<int64_t> bos_;
  int64_t max_token_bytes_ = 0;
  std::unordered_map<std::string, int64_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<uint64_t, std::pair<int64_t, int64_t>> merges_;  // (a, b) -> (rank, merged id)
  std::vector<AddedToken> added_;
  std::map<int64_t, bool> special_ids_;
  int64_t unk_ = -1;
  bool byte_fallback_ = false, ignore_merges_ = false, fuse_unk_ = false;
  bool nfc_ = false;
  std::string prepend_;
  std::vector<std::pair<std::string, std::string>> replaces_;
  std::vector<PreStep> pre_;
  bool decode_byte_level_ = false, decode_byte_fallback_ = false;
  int strip_start_ = 0;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path, std::vector<int64_t> bos_ids) {
  return std::make_unique<HfTokenizer>(path, std::move(bos_ids));
}

}  // namespace sadi
