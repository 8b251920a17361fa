// The CUDA side of sadi, built as its own shared object (libsadi_cuda.so) and loaded at start
// by lib/model/src/cuda_backend.cpp where an NVIDIA device exists. Linking it brings LibTorch's
// CUDA libraries (torch_cuda, c10_cuda, cuBLAS, cuDNN, NCCL, ...), whose loading alone costs
// about 350 MB of resident memory (measured: a LibTorch program 118 MB with torch_cpu only,
// 471 MB with torch_cuda linked): sadi's own binary links LibTorch's CPU libraries only, so a
// CPU run does not pay for them (docs/architecture.md). Loading this object registers LibTorch's
// CUDA backend (its hooks and kernels); the functions below are what sadi calls directly: the
// CUDA graphs of the decode step (lib/model/src/decode_graph.cpp).
#include <functional>

#if SADI_CUDA_GRAPHS
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#define SADI_EXPORT extern "C" __attribute__((visibility("default")))

// 1 where this object captures CUDA graphs (LibTorch built with them), else 0.
SADI_EXPORT int sadi_cuda_graphs() { return SADI_CUDA_GRAPHS ? 1 : 0; }

#if SADI_CUDA_GRAPHS
SADI_EXPORT void* sadi_cuda_graph_new() { return new at::cuda::CUDAGraph(); }
SADI_EXPORT void sadi_cuda_graph_free(void* g) { delete static_cast<at::cuda::CUDAGraph*>(g); }
SADI_EXPORT void sadi_cuda_synchronize() { c10::cuda::device_synchronize(); }

// Captures what `body` enqueues into graph `g`, on a side stream (exceptions propagate).
SADI_EXPORT void sadi_cuda_graph_capture(void* g, const std::function<void()>* body) {
  auto* graph = static_cast<at::cuda::CUDAGraph*>(g);
  c10::cuda::CUDAStreamGuard side(c10::cuda::getStreamFromPool());
  graph->capture_begin();
  (*body)();
  graph->capture_end();
}

// Replays `g` on the current stream.
SADI_EXPORT void sadi_cuda_graph_replay(void* g) { static_cast<at::cuda::CUDAGraph*>(g)->replay(); }
#endif
