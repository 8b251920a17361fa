#pragma once
// Tokenizer interface; implementations are chosen from manifest.json's tokenizer.kind.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sadi/core/strings.hpp"  // printable_ascii_bytes
#include "sadi/model/manifest.hpp"

namespace sadi {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Token ids of `text`; a BOS id is prepended when add_bos and the model has one.
  virtual std::vector<int64_t> encode(std::string_view text, bool add_bos) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual std::string kind() const = 0;
  // A lower bound on encode(text, false).size() found in one pass without tokenizing (nothing
  // allocated), so that an input far over a length limit is refused before it costs memory; 0
  // where the tokenizer gives no bound (docs/errors.md, "Input limits").
  virtual int64_t min_tokens(std::string_view /*text*/) const { return 0; }
};

// What the length checks compare with their limit before tokenizing: tok.min_tokens(text) for a
// text over 16 KiB, 0 for a shorter one (cheap to tokenize, and then counted exactly).
int64_t tokens_at_least(const Tokenizer& tok, std::string_view text);

// What an id outside the tokenizer's vocabulary (but inside the model's) decodes to: "<|id:N|>".
std::string out_of_vocab_text(int64_t id);

// Loads the tokenizer a model directory names. Throws sadi::Error for unknown kinds. Ids the
// tokenizer does not know decode to out_of_vocab_text(id), never an error.
std::unique_ptr<Tokenizer> load_tokenizer(const ModelInfo& info);

// The sentencepiece implementation (tokenizer.model).
std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& path, std::vector<int64_t> bos_ids);

// Hugging Face tokenizer.json (BPE: byte-level or with byte fallback; lib/model/src/hf_tokenizer.cpp).
// Throws sadi::Error (input) naming the file and key of anything it does not support.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path, std::vector<int64_t> bos_ids);

}  // namespace sadi
