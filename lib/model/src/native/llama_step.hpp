#pragma once
// The native decode step: one token per row of the exported Llama-family module (RMSNorm,
// rotary positions, grouped attention over the caller's KV cache, gated SiLU MLP, tied or untied
// head; q/k/v/o/MLP biases and Qwen3's per-head q/k norms), computed by sadi's own kernels
// (kernels.hpp) over the module's own parameter tensors (no second copy of the weights), with
// steering applied in place at the four sites exactly as modeling.py's Site does.
//
// Why: a batch-1 step through the TorchScript interpreter is ~7,000 ATen calls and MKL
// matrix-vector products at half the read bandwidth (docs/benchmarks.md, "Decode on a real
// model's shape"). Used by the TorchScript backend for float32 CPU steps of one token without
// captures; every other call, and every other architecture, runs the module.
//
// Shapes: B rows, S attended slots, L layers, H query heads, Hkv key/value heads, Dh head dim,
// d model dim, F FFN dim, V vocab.
#include <initializer_list>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include <torch/script.h>

#include "native/huge_pages.hpp"
#include "sadi/model/model.hpp"

namespace sadi::native {

class LlamaStep {
 public:
  // Empty when the module computes something this step does not (another architecture, another
  // dtype or device); `why` then says what.
  static std::string unsupported(const torch::jit::Module& m, const ModelInfo& info, torch::ScalarType dtype,
                                 torch::Device device);
  // The module's parameters must be float32, CPU, every matrix row-major contiguous. `loaded_into`:
  // the arena torch::jit::load put them in, if any (huge_pages.hpp); matrices outside it move to one.
  LlamaStep(const torch::jit::Module& m, const ModelInfo& info, const std::shared_ptr<HugeArena>& loaded_into);

  // ids, positions [B] int64 (CPU); key_mask [B, S] bool: the slots each row attends to; slot < S:
  // the cache slot this step's K/V are written to, attended to whatever key_mask says where
  // `attend_slot` (forward()'s rule: a padding column attends to itself, as in modeling.py;
  // decode()'s fixed-shape step attends to key_mask alone). Steering as Model::forward's,
  // validated by the caller ("at" [B, 1]). Returns logits [B, V].
  // What pages the streamed matrices are on: "2 MiB pages (loaded onto them)" (or "copied onto
  // them"), or "4 KiB pages: why".
  const std::string& weight_pages() const { return pages_; }

  torch::Tensor step(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& key_mask,
                     int64_t slot, bool attend_slot, KvCache& cache, const Steering* steering) const;

 private:
  struct Linear {
    torch::Tensor w;  // [out, in]
    torch::Tensor b;  // [out] or undefined
  };
  struct Layer {
    torch::Tensor in_norm, post_norm;  // [d]
    torch::Tensor q_norm, k_norm;      // [Dh] or undefined
    double in_eps = 0, post_eps = 0, qk_eps = 0;
    Linear q, k, v, o, gate, up, down;
  };
  struct Work;

  // Y_i [B, out_i] = X W_i^T (+ b_i) for matrices over the same X [B, in], in one thread split.
  static void fused(std::initializer_list<std::pair<const Linear*, float*>> parts, const float* x, int64_t rows);

  // w.keep: the slots each row attends to; slot: where this step's K/V are written.
  void attention(const Layer& ly, int64_t l, Work& w, int64_t slot, KvCache& cache) const;
  void mlp(const Layer& ly, int64_t l, Work& w, const Steering* steering) const;
  void use_huge_pages(const std::shared_ptr<HugeArena>& loaded_into);


  int64_t d_, f_, h_, hkv_, dh_, v_;
  double norm_eps_ = 0, scaling_ = 0;
  std::string pages_ = "4 KiB pages";
  std::vector<Layer> layers_;
  torch::Tensor embed_, norm_, head_, inv_freq_;  // [V, d], [d], [V, d], [Dh / 2]
};

}  // namespace sadi::native
