#pragma once
// manifest.json: the model-directory contract written by scripts/export_hf.py
// (docs/model-directory.md). Loading validates every key and shape it relies on.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sadi/core/site.hpp"

namespace sadi {

// Keep equal to FORMAT_VERSION in scripts/sadi_export/__init__.py.
inline constexpr int64_t kFormatVersion = 2;

struct SiteInfo {
  Site site;
  std::vector<int64_t> shape;  // per token, all layers: [L, H, Dh] or [L, U]
  int64_t units = 0;           // values per layer addressed by steering (H*Dh for heads)
  int64_t score_units = 0;     // ranked elements per layer (H for heads)
  int64_t group = 1;           // values per ranked element (Dh for heads, else 1)
  std::string doc;
};

// The manifest's kinds, parsed once by load_manifest (names: kind_name).
enum class NormKind { kRms, kLayer };                          // rms, layer
enum class PositionKind { kRope, kLearned, kAlibi };           // rope, learned, alibi
enum class RopeScaling { kNone, kLinear, kLlama3 };            // none, linear, llama3
enum class TokenizerKind { kSentencePiece, kHfTokenizerJson };  // sentencepiece, hf-tokenizer-json
const char* kind_name(NormKind k);
const char* kind_name(PositionKind k);
const char* kind_name(RopeScaling k);
const char* kind_name(TokenizerKind k);

struct TokenizerInfo {
  std::string file;  // relative to the model directory
  TokenizerKind kind = TokenizerKind::kSentencePiece;
  bool add_bos = true;
};

struct ModelInfo {
  std::filesystem::path dir;
  int64_t format_version = 0;
  std::string architecture;     // the exporter's name (llama, gpt2, ...); informational
  std::string hf_architecture;  // LlamaForCausalLM ...
  int64_t n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int64_t d_model = 0, d_ffn = 0, vocab_size = 0, max_positions = 0;
  NormKind norm_kind = NormKind::kRms;
  double norm_eps = 0;
  PositionKind positions = PositionKind::kRope;
  double rope_theta = 0;        // rope only
  RopeScaling rope_scaling = RopeScaling::kNone;
  bool tied_embeddings = false;
  bool qkv_bias = false, o_bias = false, mlp_bias = false;
  std::string dtype;  // stored weight dtype
  std::vector<int64_t> bos_ids, eos_ids, pad_ids;
  TokenizerInfo tokenizer;
  std::string fingerprint;  // "sha256:..." over the weights
  int64_t n_parameters = 0;
  std::string model_file;   // "model.ts"
  int64_t model_file_bytes = 0;
  std::string producer;     // tool, version, torch
  std::vector<SiteInfo> sites;

  const SiteInfo& site(Site s) const;
};

// Reads and validates DIR/manifest.json and checks that the files it names exist with the
// recorded size. Throws sadi::Error naming the file, key, expected and found value.
ModelInfo load_manifest(const std::filesystem::path& dir);

}  // namespace sadi
