#pragma once
// Float32 kernels of the native decode step (llama_step.cpp): dot products and matrix-vector
// products over row-major weights, AVX-512 or AVX2 + FMA where the CPU has them (checked at run
// time), plain C++ otherwise. Every output value is one dot product summed in a fixed order (four
// 16- or 8-lane partial sums over blocks of 64 or 32, then the tail), whatever the thread count or
// the number of vectors: results are batch- and thread-invariant on one machine.
#include <cstdint>
#include <string>
#include <vector>

namespace sadi::native {

// The instruction set in use: the best this CPU has of "avx512", "avx2" and "generic".
// force_isa(name) switches to one of available_isas() ("" back to the best; another name throws
// std::invalid_argument): for tests that compare the paths; not thread-safe, call it before any
// kernel runs.
const char* kernel_isa();
std::vector<std::string> available_isas();
void force_isa(const std::string& name);

// How many threads at::parallel_for runs here (1 when this code was built without OpenMP).
int parallel_threads();
// Whether this build compiled the kernels with OpenMP (GCC; not the clang sanitizer build).
bool openmp_enabled();

// sum_i a[i] * b[i] (the kernel gemv inlines, exposed for its tests)
float dot(const float* a, const float* b, int64_t n);

// One query token's attention on one key/value head for the n query heads that share it
// (grouped attention), over the slots s < slots with keep[s] != 0:
// out[h] = sum_s softmax_s(scale * q[h] . K[s]) V[s]. q, out [n, dh]; k, v [slots, dh] (rows dh
// apart); scratch: n * slots floats. Each K and V row is read once for the n heads; each value is
// summed in a fixed order (batch- and thread-invariant).
void attend(const float* q, int64_t n, const float* k, const float* v, const uint8_t* keep, int64_t slots, int64_t dh,
            float scale, float* out, float* scratch);

// Y[r, o] = W[o, :] . X[r, :] for r < rows, o < out: W [out, in] row-major; X rows `x_stride`
// floats apart, Y rows `y_stride` apart. Output rows are split over LibTorch's intra-op threads;
// each weight row is read once for all `rows` vectors.
void gemv(const float* w, int64_t out, int64_t in, const float* x, int64_t x_stride, float* y, int64_t y_stride,
          int64_t rows);

// One matrix of a fused product: Y [rows, out] (rows y_stride apart) = X W^T, W [out, in].
struct GemvPart {
  const float* w;
  int64_t out;
  float* y;
  int64_t y_stride;
};

// Several matrices over the same X (q/k/v, gate/up) in one split over the threads: their output
// rows counted end to end, so the threads join once, not once per matrix. Each value as gemv's.
void gemv_fused(const std::vector<GemvPart>& parts, int64_t in, const float* x, int64_t x_stride, int64_t rows);

}  // namespace sadi::native
