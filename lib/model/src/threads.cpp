#include "sadi/model/threads.hpp"

#include <dlfcn.h>
#include <sched.h>

#include <ATen/Parallel.h>

#include "sadi/core/strings.hpp"

namespace sadi {

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

namespace {
int g_threads = 0;
}  // namespace

int configured_threads() { return g_threads; }

std::string configure_threads(int n) {
  if (n <= 0) n = available_cores();
  g_threads = n;
  using SetThreads = void (*)(int);
  // OpenBLAS (Debian's libblas.so.3 alternative): found at run time, so a reference BLAS or an
  // MKL build simply lacks the symbol.
  auto openblas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (openblas != nullptr) {
    openblas(n);
    at::set_num_threads(1);
    return str(n, " threads (OpenBLAS ", n, ", LibTorch intra-op 1)");
  }
  at::set_num_threads(n);
  return str(n, " threads (LibTorch intra-op ", n, ")");
}

std::string restrict_threads_for_batch_invariance() {
  const int before = at::get_num_threads();
  if (before <= 1) return "";
  at::set_num_threads(1);
  return str("batch-invariant on the CPU: LibTorch intra-op threads ", before,
             " -> 1 (a row's numbers must not depend on its batch; docs/determinism.md)");
}

}  // namespace sadi
