#include "sadi/model/tokenizer.hpp"

#include <algorithm>
#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "sadi/core/context.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/strings.hpp"
#include "plugin_path.hpp"

#ifndef SADI_SPM_PLUGIN_BUILD_PATH
#define SADI_SPM_PLUGIN_BUILD_PATH ""
#endif

namespace sadi {
namespace {

// The sentencepiece plugin's C ABI (lib/model/plugin/spm_plugin.cpp).
struct SpmApi {
  void* (*load)(const char*, char**);
  void (*free_handle)(void*);
  int (*size)(void*);
  int (*encode)(void*, const char*, size_t, int**, size_t*);
  int (*decode)(void*, const int*, size_t, char**, size_t*);
  const char* (*error)(void*);
  int (*max_piece_bytes)(void*);
};

// Loads the plugin once: $SADI_SPM_PLUGIN, then next to the binary, then the build tree.
const SpmApi& spm_api() {
  static SpmApi api{};
  static std::once_flag once;
  std::call_once(once, [] {
#ifdef SADI_SANITIZED
    // ASan and UBSan refuse dlopen(RTLD_DEEPBIND) (allocators would mix); sanitizer builds read
    // tokenizer.json models only (docs/testing.md).
    throw_runtime("the sentencepiece plugin cannot be loaded in a sanitizer build (RTLD_DEEPBIND); "
                  "use a model with a tokenizer.json");
#endif
    std::string errors;
    void* h = open_plugin("libsadi_spm.so", "SADI_SPM_PLUGIN", SADI_SPM_PLUGIN_BUILD_PATH,
                          RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND, errors);
    if (!h) throw_runtime("cannot load the sentencepiece plugin libsadi_spm.so; tried:" + errors);
    auto sym = [&](const char* name) {
      void* p = dlsym(h, name);
      if (!p) throw_runtime(str("sentencepiece plugin: missing symbol ", name));
      return p;
    };
    api.load = reinterpret_cast<void* (*)(const char*, char**)>(sym("sadi_spm_load"));
    api.free_handle = reinterpret_cast<void (*)(void*)>(sym("sadi_spm_free"));
    api.size = reinterpret_cast<int (*)(void*)>(sym("sadi_spm_size"));
    api.encode = reinterpret_cast<int (*)(void*, const char*, size_t, int**, size_t*)>(sym("sadi_spm_encode"));
    api.decode = reinterpret_cast<int (*)(void*, const int*, size_t, char**, size_t*)>(sym("sadi_spm_decode"));
    api.error = reinterpret_cast<const char* (*)(void*)>(sym("sadi_spm_error"));
    api.max_piece_bytes = reinterpret_cast<int (*)(void*)>(sym("sadi_spm_max_piece_bytes"));
  });
  if (!api.load) throw_runtime("the sentencepiece plugin failed to load earlier");
  return api;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(const std::string& path, std::vector<int64_t> bos) : api_(spm_api()), bos_(std::move(bos)) {
    char* err = nullptr;
    handle_ = api_.load(path.c_str(), &err);
    if (!handle_) {
      std::string msg = err ? err : "unknown error";
      std::free(err);
      throw_input(str(path, ": cannot load sentencepiece model: ", msg));
    }
    max_piece_bytes_ = api_.max_piece_bytes(handle_);
  }
  ~SentencePieceTokenizer() override { api_.free_handle(handle_); }
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<int64_t> encode(std::string_view text, bool add_bos) const override {
    int* ids = nullptr;
    size_t n = 0;
    if (api_.encode(handle_, text.data(), text.size(), &ids, &n) != 0) {
      throw_runtime(str("sentencepiece encode failed: ", api_.error(handle_)));
    }
    std::vector<int64_t> out;
    out.reserve(n + 1);
    if (add_bos && !bos_.empty()) out.push_back(bos_.front());
    out.insert(out.end(), ids, ids + n);
    std::free(ids);
    return out;
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::vector<int> v(ids.begin(), ids.end());
    char* text = nullptr;
    size_t len = 0;
    if (api_.decode(handle_, v.data(), v.size(), &text, &len) != 0) {
      throw_runtime(str("sentencepiece decode failed: ", api_.error(handle_)));
    }
    std::string out(text, len);
    std::free(text);
    return out;
  }

  int64_t vocab_size() const override { return api_.size(handle_); }
  std::string kind() const override { return "sentencepiece"; }
  int64_t min_tokens(std::string_view text) const override {
    return max_piece_bytes_ > 0 ? printable_ascii_bytes(text) / max_piece_bytes_ : 0;
  }

 private:
  const SpmApi& api_;
  void* handle_ = nullptr;
  int64_t max_piece_bytes_ = 0;  // printable ASCII bytes of any piece; <= 0: unknown characters could fuse
  std::vector<int64_t> bos_;
};

// Ids the model can produce but the tokenizer does not know (a model whose vocab_size exceeds
// its tokenizer's, as padded embedding tables are): each decodes to out_of_vocab_text(id) instead
// of failing; the runs of known ids between them decode as usual.
class OutOfVocabGuard final : public Tokenizer {
 public:
  explicit OutOfVocabGuard(std::unique_ptr<Tokenizer> inner) : inner_(std::move(inner)), n_(inner_->vocab_size()) {}
  std::vector<int64_t> encode(std::string_view text, bool add_bos) const override { return inner_->encode(text, add_bos); }
  std::string decode(const std::vector<int64_t>& ids) const override {
    auto known = [&](int64_t id) { return id >= 0 && id < n_; };
    if (std::all_of(ids.begin(), ids.end(), known)) return inner_->decode(ids);
    std::string out;
    std::vector<int64_t> run;
    for (int64_t id : ids) {
      if (known(id)) {
        run.push_back(id);
        continue;
      }
      if (!run.empty()) out += inner_->decode(run);
      run.clear();
      out += out_of_vocab_text(id);
    }
    if (!run.empty()) out += inner_->decode(run);
    return out;
  }
  int64_t vocab_size() const override { return n_; }
  std::string kind() const override { return inner_->kind(); }
  int64_t min_tokens(std::string_view text) const override { return inner_->min_tokens(text); }

 private:
  std::unique_ptr<Tokenizer> inner_;
  int64_t n_;
};

}  // namespace

std::string out_of_vocab_text(int64_t id) { return str("<|id:", id, "|>"); }

int64_t tokens_at_least(const Tokenizer& tok, std::string_view text) {
  constexpr size_t kExactBelowBytes = 16 << 10;
  return text.size() > kExactBelowBytes ? tok.min_tokens(text) : 0;
}

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& path, std::vector<int64_t> bos_ids) {
  return std::make_unique<SentencePieceTokenizer>(path, std::move(bos_ids));
}

std::unique_ptr<Tokenizer> load_tokenizer(const ModelInfo& info) {
  const std::string path = (info.dir / info.tokenizer.file).string();
  OperationContext context(str("loading the tokenizer ", path));
  fault_point("tokenizer");
  std::unique_ptr<Tokenizer> tok;
  if (info.tokenizer.kind == TokenizerKind::kSentencePiece) {
    tok = load_sentencepiece(path, info.bos_ids);
  } else {
    tok = load_hf_tokenizer(path, info.bos_ids);
  }
  if (tok->vocab_size() > info.vocab_size) {
    throw_input(str(path, ": tokenizer has ", tok->vocab_size(), " tokens but the model's vocab_size is ",
                    info.vocab_size));
  }
  return std::make_unique<OutOfVocabGuard>(std::move(tok));
}

}  // namespace sadi
