#pragma once
// The Model API: batched prefill and decode with a KV cache, capture and steering.
// The TorchScript backend (torchscript_model.cpp) is one implementation; a second backend is a
// new file implementing Model, not #ifdefs.
//
// Shapes: B rows, T tokens in this call, S = start + T key slots, L layers, U units of a site
// (SiteInfo::units), N logit positions, C capture positions, V vocab.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "sadi/model/manifest.hpp"

namespace sadi {

// One layer's edit of one site: A' = A + A * scale + add, where A is the activation the forward
// computes, or (clamp) `base` in the rows of `base_rows`. The formula lives in the exported
// module (modeling.py, Site); lib/steer/steered_forward.cpp is the only code that fills this.
// Undefined tensors are not applied.
struct LayerEdit {
  torch::Tensor scale;      // [B, U] model dtype (SADI: delta * M)
  torch::Tensor add;        // [B, U] model dtype (fixed vector, CAA)
  torch::Tensor base;       // [B, U] model dtype: clamp's edited-from clean values
  torch::Tensor base_rows;  // [B] bool: rows whose A is `base`; undefined = every row
};

// One site's steering for one forward call.
struct SiteEdit {
  torch::Tensor at;                   // [B, T] bool: positions of this call that are edited
  std::map<int64_t, LayerEdit> layers;  // layer -> edit; absent layers are untouched
};

// Steering for one forward call: per site, per layer, per row. Rows may differ in everything.
struct Steering {
  std::map<Site, SiteEdit> sites;
  bool empty() const { return sites.empty(); }
};

struct ForwardInput {
  torch::Tensor input_ids;   // [B, T] int64
  torch::Tensor positions;   // [B, T] int64 rotary positions
  torch::Tensor key_mask;    // [B, S] bool, true for real tokens in slots [0, start + T)
  int64_t start = 0;         // first cache slot written by this call (0 without a cache)
  torch::Tensor logits_at;   // [B, N] int64 positions of this call whose logits are returned
  const Steering* steering = nullptr;
  std::map<Site, torch::Tensor> capture;  // site -> [B, C] int64 positions of this call
};

struct ForwardOutput {
  torch::Tensor logits;                    // [B, N, V] float32
  std::map<Site, torch::Tensor> captured;  // site -> [B, C, L, U] model dtype, after any edit
};

// One decoding step with fixed shapes (the exported module's decode(): what a CUDA graph captures
// once and replays; docs/gpu.md). Every tensor on the model's device; the caller updates them in
// place between steps.
struct DecodeStep {
  torch::Tensor input_ids;  // [B, 1] int64
  torch::Tensor positions;  // [B, 1] int64 rotary positions
  torch::Tensor key_mask;   // [B, capacity] bool: true on every real slot up to and including `slot`
  torch::Tensor slot;       // [1] int64: the cache slot this step's K/V are written to
  const Steering* steering = nullptr;  // "at" [B, 1]
  bool check_finite = true;  // false while a CUDA graph captures (no value may be read back)
};

// Throws sadi::Error (runtime) when logits hold NaN or inf: scores and generations would be
// silently wrong. rows x tokens: the pass, for the message.
void check_finite_logits(const torch::Tensor& logits, int64_t rows, int64_t tokens);

// True for the allocators' out-of-memory messages (CPU DefaultCPUAllocator, CUDA caching allocator).
bool is_out_of_memory(const std::string& message);

// Key/value cache owned by the caller: slots [0, capacity) per row; the model writes the slots
// [start, start + T) of each call. Rows share slot numbering (prompts are left-padded).
// first_layer > 0: the layers below it hold no slots ([B, Hkv, 0, Dh]): a cache only for
// Model::forward_from(first_layer or later), which neither reads nor writes them.
class KvCache {
 public:
  KvCache(const ModelInfo& info, int64_t batch, int64_t capacity, torch::ScalarType dtype,
          torch::Device device, int64_t first_layer = 0);
  std::vector<torch::Tensor> k;  // L x [B, Hkv, capacity, Dh]
  std::vector<torch::Tensor> v;  // L x [B, Hkv, capacity, Dh]
  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t first_layer() const { return first_layer_; }

 private:
  int64_t batch_;
  int64_t capacity_;
  int64_t first_layer_;
};

struct LoadOptions {
  std::string device = "cpu";  // or "auto": CUDA when present, else the CPU (logged)
  std::string dtype;  // empty: the stored dtype
  // Every linear layer runs one GEMM per batch row and the logits one per position, so a row's
  // numbers do not depend on the rows sharing its batch (docs/determinism.md). Callers then batch
  // only rows of equal length (no padding). nullopt: the device's default, true on the CPU and
  // false on CUDA (where per-row GEMMs cost much and cuBLAS promises no batch invariance anyway).
  std::optional<bool> batch_invariant = false;
  // One-token steps (decoding) of a float32 Llama-family model on the CPU run sadi's native step
  // (lib/model/src/native/) instead of the TorchScript module; false: always the module.
  bool native_decode = true;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelInfo& info() const = 0;
  virtual torch::Device device() const = 0;
  virtual torch::ScalarType dtype() const = 0;
  virtual bool batch_invariant() const = 0;
  // What runs one-token steps: "native (avx512; ...)", "native (avx2; ...)", "native (generic; ...)"
  // or "torchscript: <why>".
  virtual std::string decode_kernel() const { return "torchscript"; }
  // Runs one chunk. Validates every shape against the manifest and throws sadi::Error (input)
  // naming the argument on mismatch. `cache` may be null (then start must be 0).
  virtual ForwardOutput forward(const ForwardInput& in, KvCache* cache) = 0;
  // Whether forward_from() exists (models exported before it have only forward()).
  virtual bool has_forward_from() const { return false; }
  // forward() from layer `first` on, the layers below not run: hidden [B, T, d] model dtype is the
  // residual stream entering layer `first` (what layer first - 1 puts out: site "residual" of an
  // unsteered forward of the same tokens); first == L runs the final norm and head alone.
  // in.steering may edit layers >= first only (throws sadi::Error otherwise); in.capture must be
  // empty. The cache's layers below `first` are neither read nor written. Returns logits
  // [B, N, V] float32, equal to forward()'s for the same tokens (bit-identical when batch-invariant).
  virtual torch::Tensor forward_from(const ForwardInput& in, KvCache* cache, int64_t first, const torch::Tensor& hidden);
  // Whether decode_step() exists (models exported before it have only forward()).
  virtual bool has_decode_step() const { return false; }
  // Runs one fixed-shape decoding step over the whole cache: logits [B, V] float32. Equal to
  // forward() with start = slot to float rounding. Checks shapes only (no value is read back
  // to the host before the logits' finiteness check).
  virtual torch::Tensor decode_step(const DecodeStep& in, KvCache& cache);
};

// Loads a model directory (manifest.json + model.ts) with the TorchScript backend.
std::unique_ptr<Model> load_model(const std::filesystem::path& dir, const LoadOptions& opts);

}  // namespace sadi
