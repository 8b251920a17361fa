#include "sadi/model/decode_graph.hpp"

#include "sadi/core/error.hpp"

#if SADI_CUDA_GRAPHS
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace sadi {

#if SADI_CUDA_GRAPHS

struct DecodeGraph::Impl {
  explicit Impl(Model& m) : model(m) {}
  Model& model;
  at::cuda::CUDAGraph graph;
  torch::Tensor out;  // [B, V]: written by every replay
  int calls = 0;
};

bool DecodeGraph::available() { return true; }

torch::Tensor DecodeGraph::step(const DecodeStep& in, KvCache& cache) {
  Impl& g = *impl_;
  if (!in.input_ids.is_cuda()) throw_runtime("DecodeGraph: the model is not on a CUDA device");
  if (g.calls++ == 0) return g.model.decode_step(in, cache);  // warm-up: lazy initialisation, allocator
  if (g.calls == 2) {
    DecodeStep quiet = in;
    quiet.check_finite = false;  // no value may be read back while capturing
    c10::cuda::device_synchronize();
    {
      c10::cuda::CUDAStreamGuard side(c10::cuda::getStreamFromPool());
      g.graph.capture_begin();
      g.out = g.model.decode_step(quiet, cache);
      g.graph.capture_end();
    }
    c10::cuda::device_synchronize();
  }
  g.graph.replay();  // on the current stream, after the in-place updates of the inputs
  check_finite_logits(g.out, g.out.size(0), 1);
  return g.out;
}

#else

struct DecodeGraph::Impl {
  explicit Impl(Model&) {}
};

bool DecodeGraph::available() { return false; }

torch::Tensor DecodeGraph::step(const DecodeStep&, KvCache&) {
  throw_runtime("CUDA graphs: this build's LibTorch has no CUDA (SADI_CUDA_GRAPHS off)");
}

#endif

DecodeGraph::DecodeGraph(Model& model) : impl_(std::make_unique<Impl>(model)) {}
DecodeGraph::~DecodeGraph() = default;

}  // namespace sadi
