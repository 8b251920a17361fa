#pragma once
// LibTorch's CUDA backend, loaded at program start from the plugin libsadi_cuda.so
// (lib/model/plugin/cuda_plugin.cpp) where an NVIDIA device exists: sadi links LibTorch's CPU
// libraries only, and the CUDA ones cost ~350 MB of resident memory just by being loaded.
// SADI_CUDA_BACKEND=auto (default: load where /dev/nvidiactl exists), load (always: tests) or off.
// LibTorch keeps the CUDA hooks it finds the first time it asks for them, so the plugin must be
// loaded before anything touches CUDA: a static initializer of this library does it.
#include <functional>
#include <string>

namespace sadi {

struct CudaBackend {
  bool graphs = false;  // the plugin captures CUDA graphs
  void* (*graph_new)() = nullptr;
  void (*graph_free)(void*) = nullptr;
  void (*synchronize)() = nullptr;
  void (*graph_capture)(void*, const std::function<void()>*) = nullptr;
  void (*graph_replay)(void*) = nullptr;
};

// The loaded plugin, or null (no NVIDIA device, SADI_CUDA_BACKEND=off, a build without CUDA, or
// the plugin failed to load: cuda_backend_status() says which).
const CudaBackend* cuda_backend();
// "loaded (PATH)", or "not loaded: why".
const std::string& cuda_backend_status();

}  // namespace sadi
