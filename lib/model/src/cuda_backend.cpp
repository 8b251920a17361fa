#include "sadi/model/cuda_backend.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "plugin_path.hpp"
#include "sadi/core/strings.hpp"

#ifndef SADI_CUDA_PLUGIN_BUILD_PATH
#define SADI_CUDA_PLUGIN_BUILD_PATH ""
#endif

namespace sadi {
namespace {

struct Loaded {
  CudaBackend api;
  bool ok = false;
  std::string status;
};

template <typename F>
F symbol(void* h, const char* name) {
  return reinterpret_cast<F>(dlsym(h, name));
}

Loaded load() {
  Loaded l;
  const char* mode = std::getenv("SADI_CUDA_BACKEND");
  const std::string m = mode != nullptr && *mode != '\0' ? mode : "auto";
  if (m != "auto" && m != "load" && m != "off") {
    l.status = str("not loaded: SADI_CUDA_BACKEND is '", m, "' (expected auto, load or off)");
    return l;
  }
  if (m == "off") {
    l.status = "not loaded: SADI_CUDA_BACKEND=off";
    return l;
  }
  if (!*SADI_CUDA_PLUGIN_BUILD_PATH) {
    l.status = "not loaded: this build's LibTorch has no CUDA";
    return l;
  }
  if (m == "auto" && ::access("/dev/nvidiactl", F_OK) != 0) {
    l.status = "not loaded: no NVIDIA device (/dev/nvidiactl missing)";
    return l;
  }
  std::string errors;
  // RTLD_GLOBAL: LibTorch's CUDA libraries join the process as if linked (their static
  // initializers register the CUDA backend with LibTorch's dispatcher and hooks).
  void* h = open_plugin("libsadi_cuda.so", "SADI_CUDA_PLUGIN", SADI_CUDA_PLUGIN_BUILD_PATH, RTLD_NOW | RTLD_GLOBAL,
                        errors);
  if (h == nullptr) {
    l.status = "not loaded: cannot load libsadi_cuda.so; tried:" + errors;
    return l;
  }
  auto graphs = symbol<int (*)()>(h, "sadi_cuda_graphs");
  l.api.graphs = graphs != nullptr && graphs() == 1;
  if (l.api.graphs) {
    l.api.graph_new = symbol<void* (*)()>(h, "sadi_cuda_graph_new");
    l.api.graph_free = symbol<void (*)(void*)>(h, "sadi_cuda_graph_free");
    l.api.synchronize = symbol<void (*)()>(h, "sadi_cuda_synchronize");
    l.api.graph_capture = symbol<void (*)(void*, const std::function<void()>*)>(h, "sadi_cuda_graph_capture");
    l.api.graph_replay = symbol<void (*)(void*)>(h, "sadi_cuda_graph_replay");
    l.api.graphs = l.api.graph_new && l.api.graph_free && l.api.synchronize && l.api.graph_capture && l.api.graph_replay;
  }
  Dl_info info{};
  const bool named = graphs != nullptr && dladdr(reinterpret_cast<void*>(graphs), &info) && info.dli_fname;
  l.ok = true;
  l.status = str("loaded (", named ? info.dli_fname : "libsadi_cuda.so", l.api.graphs ? "" : "; no CUDA graphs", ")");
  return l;
}

const Loaded& loaded() {
  static const Loaded l = load();
  return l;
}

// At program start, before anything asks LibTorch for its CUDA hooks (it keeps the first answer).
const bool kLoadedAtStart = (loaded(), true);

}  // namespace

const CudaBackend* cuda_backend() { return loaded().ok ? &loaded().api : nullptr; }
const std::string& cuda_backend_status() { return loaded().status; }

}  // namespace sadi
