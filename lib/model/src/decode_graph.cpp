#include "sadi/model/decode_graph.hpp"

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/cuda_backend.hpp"

namespace sadi {

// The graph itself lives in the CUDA plugin (lib/model/plugin/cuda_plugin.cpp); this side keeps
// the protocol: warm-up step, capture on the second, replays after.
struct DecodeGraph::Impl {
  Impl(Model& m, const CudaBackend& b) : model(m), api(b), graph(b.graph_new()) {}
  ~Impl() { api.graph_free(graph); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Model& model;
  const CudaBackend& api;
  void* graph;
  torch::Tensor out;  // [B, V]: written by every replay
  int calls = 0;
};

bool DecodeGraph::available() {
  const CudaBackend* b = cuda_backend();
  return b != nullptr && b->graphs;
}

DecodeGraph::DecodeGraph(Model& model) {
  if (!available()) throw_runtime(str("CUDA graphs: not available (CUDA backend ", cuda_backend_status(), ")"));
  impl_ = std::make_unique<Impl>(model, *cuda_backend());
}
DecodeGraph::~DecodeGraph() = default;

torch::Tensor DecodeGraph::step(const DecodeStep& in, KvCache& cache) {
  Impl& g = *impl_;
  if (!in.input_ids.is_cuda()) throw_runtime("DecodeGraph: the model is not on a CUDA device");
  if (g.calls++ == 0) return g.model.decode_step(in, cache);  // warm-up: lazy initialisation, allocator
  if (g.calls == 2) {
    DecodeStep quiet = in;
    quiet.check_finite = false;  // no value may be read back while capturing
    g.api.synchronize();
    const std::function<void()> body = [&] { g.out = g.model.decode_step(quiet, cache); };
    g.api.graph_capture(g.graph, &body);
    g.api.synchronize();
  }
  g.api.graph_replay(g.graph);  // on the current stream, after the in-place updates of the inputs
  check_finite_logits(g.out, g.out.size(0), 1);
  return g.out;
}

}  // namespace sadi
