#pragma once
// CPU threads: sadi sets them itself (--threads), so that OMP_NUM_THREADS and friends cannot
// oversubscribe the cores. LibTorch's OpenMP pool and OpenBLAS's pthread pool are two pools; with
// both at N threads, OpenMP's spinning workers compete with OpenBLAS's on the same cores (seen:
// decoding 4x slower with OMP_NUM_THREADS=2 on 2 cores). Measured best here (docs/benchmarks.md):
// the matrix products (all the time that matters) on N BLAS threads, LibTorch's own elementwise
// ops on one. Without OpenBLAS (an MKL build, whose threads follow LibTorch's), LibTorch gets N.
#include <string>

namespace sadi {

// The cores this process may run on (its CPU affinity, so taskset and cpusets count).
int available_cores();

// Applies n threads (n <= 0: available_cores()); returns a one-line description for the log,
// e.g. "2 threads (OpenBLAS 2, LibTorch intra-op 1)".
std::string configure_threads(int n);

// The n last applied by configure_threads (0 before any call).
int configured_threads();

// A batch-invariant model on the CPU runs LibTorch on one intra-op thread: with the torch 2.11
// wheel (MKL and oneDNN under LibTorch's OpenMP pool), two intra-op threads made eval's shards
// differ from the unsharded run in the last bits (docs/determinism.md). Returns the log line
// when it changed anything, else "".
std::string restrict_threads_for_batch_invariance();

}  // namespace sadi
