#pragma once
// CUDA graphs for the fixed-shape decode step (Model::decode_step, docs/gpu.md): a batch's first
// step runs eagerly (warm-up), its second is captured into a graph and replayed, and every later
// step is one replay: one graph launch instead of some 50 kernel launches per layer behind the
// TorchScript interpreter. The graph calls are in the CUDA plugin (cuda_backend.hpp);
// available() is false where it is not loaded or was built without graphs, and the constructor
// then refuses.
#include <functional>
#include <memory>

#include "sadi/model/model.hpp"

namespace sadi {

class DecodeGraph {
 public:
  static bool available();  // this build can capture CUDA graphs
  explicit DecodeGraph(Model& model);
  ~DecodeGraph();
  DecodeGraph(const DecodeGraph&) = delete;
  DecodeGraph& operator=(const DecodeGraph&) = delete;

  // One step. `in` and `cache` must be the same tensors (same addresses, updated in place) on
  // every call of this object. -> logits [B, V] float32: the graph's output buffer, overwritten
  // by the next call (read it first).
  torch::Tensor step(const DecodeStep& in, KvCache& cache);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sadi
