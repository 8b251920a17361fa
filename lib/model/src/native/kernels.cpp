#include "native/kernels.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/Parallel.h>

namespace sadi::native {
namespace {

// The generic path sums in the AVX2 path's order (lane j of partial sum k holds the products
// i = 32 * block + 8 * k + j; the tail's 8-blocks go to partial sum 0; lanes combined as hsum
// does; then the scalar tail), but rounds each product before adding it (no fused multiply-add),
// so the two paths agree to float rounding, not bit for bit.
float dot_generic(const float* a, const float* b, int64_t n) {
  float acc[4][8] = {};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      for (int j = 0; j < 8; ++j) acc[k][j] += a[i + 8 * k + j] * b[i + 8 * k + j];
    }
  }
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[0][j] += a[i + j] * b[i + j];
  }
  float lanes[8];
  for (int j = 0; j < 8; ++j) lanes[j] = (acc[0][j] + acc[1][j]) + (acc[2][j] + acc[3][j]);
  // hsum: (lo + hi) lanes, then pairwise
  float q[4];
  for (int j = 0; j < 4; ++j) q[j] = lanes[j] + lanes[j + 4];
  float s = (q[0] + q[2]) + (q[1] + q[3]);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

__attribute__((target("avx2,fma"), always_inline)) inline float hsum(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // lanes j + (j + 4)
  __m128 p = _mm_add_ps(h, _mm_movehl_ps(h, h));                                   // (q0 + q2), (q1 + q3)
  p = _mm_add_ss(p, _mm_shuffle_ps(p, p, 1));
  return _mm_cvtss_f32(p);
}

__attribute__((target("avx2,fma"), always_inline)) inline float dot_avx2(const float* a, const float* b, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// GCC 12's AVX-512 headers initialise a variable from itself (GCC bug 105593, fixed in 12.3),
// which -Wuninitialized reports wherever _mm512_reduce_add_ps is inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// AVX-512: four 16-lane partial sums (64 products per step), the tail under a lane mask. Another
// summation order than the AVX2 path's: a machine's results are its own (docs/determinism.md).
// Prefetch: `a` (the weight row: gemv streams the matrix) read 2 KiB ahead, which took a
// one-thread matrix-vector product over 540 MB from 15.1 to 16.5 GB/s on the AVX-512 Xeon (its
// plain read: 16.7 GB/s), while on the AMD EPYC (Zen 4) it cost 3 to 12% (32.9 -> 30.9 GB/s in
// the probe, 40 -> 35 decode tokens/s on SmolLM2; docs/benchmarks.md): on for Intel, off for AMD.
// A prefetch past the matrix's end reads nothing it may not.
template <bool kPrefetch>
__attribute__((target("avx512f"), always_inline)) inline float dot_avx512(const float* a, const float* b, int64_t n) {
  constexpr int64_t kAhead = 2048;  // bytes
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    if constexpr (kPrefetch) {
      const char* next = reinterpret_cast<const char*>(a + i) + kAhead;
      for (int line = 0; line < 4; ++line) _mm_prefetch(next + 64 * line, _MM_HINT_T0);
    }
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), a1);
    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), a2);
    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), a3);
  }
  for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), a0);
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

// attend()'s two passes over a K/V head: the scores of each kept slot for the n heads (K[s] read
// once), into p [n, slots]; then the softmax-weighted sum of the V rows (V[s] read once).
__attribute__((target("avx512f"))) void scores_avx512(const float* q, int64_t n, const float* k, const uint8_t* keep,
                                                      int64_t slots, int64_t dh, float scale, float* p) {
  const int64_t full = dh / 16 * 16;
  const auto tail = static_cast<__mmask16>((1u << (dh - full)) - 1);
  for (int64_t s = 0; s < slots; ++s) {
    if (!keep[s]) continue;
    const float* ks = k + s * dh;
    for (int64_t h = 0; h < n; ++h) {
      const float* qh = q + h * dh;
      __m512 acc = _mm512_setzero_ps();
      for (int64_t c = 0; c < full; c += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(ks + c), _mm512_loadu_ps(qh + c), acc);
      if (tail) acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, ks + full), _mm512_maskz_loadu_ps(tail, qh + full), acc);
      p[h * slots + s] = _mm512_reduce_add_ps(acc) * scale;
    }
  }
}

__attribute__((target("avx512f"))) void weighted_avx512(const float* p, int64_t n, const float* v, const uint8_t* keep,
                                                        int64_t slots, int64_t dh, float* out) {
  const int64_t full = dh / 16 * 16;
  const auto tail = static_cast<__mmask16>((1u << (dh - full)) - 1);
  for (int64_t s = 0; s < slots; ++s) {
    if (!keep[s]) continue;
    const float* vs = v + s * dh;
    for (int64_t h = 0; h < n; ++h) {
      const __m512 a = _mm512_set1_ps(p[h * slots + s]);
      float* o = out + h * dh;
      for (int64_t c = 0; c < full; c += 16) {
        _mm512_storeu_ps(o + c, _mm512_fmadd_ps(a, _mm512_loadu_ps(vs + c), _mm512_loadu_ps(o + c)));
      }
      if (tail) {
        _mm512_mask_storeu_ps(o + full, tail,
                              _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(tail, vs + full), _mm512_maskz_loadu_ps(tail, o + full)));
      }
    }
  }
}

__attribute__((target("avx2,fma"))) void scores_avx2(const float* q, int64_t n, const float* k, const uint8_t* keep,
                                                     int64_t slots, int64_t dh, float scale, float* p) {
  const int64_t full = dh / 8 * 8;
  for (int64_t s = 0; s < slots; ++s) {
    if (!keep[s]) continue;
    const float* ks = k + s * dh;
    for (int64_t h = 0; h < n; ++h) {
      const float* qh = q + h * dh;
      __m256 acc = _mm256_setzero_ps();
      for (int64_t c = 0; c < full; c += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(ks + c), _mm256_loadu_ps(qh + c), acc);
      float sum = hsum(acc);
      for (int64_t c = full; c < dh; ++c) sum += ks[c] * qh[c];
      p[h * slots + s] = sum * scale;
    }
  }
}

__attribute__((target("avx2,fma"))) void weighted_avx2(const float* p, int64_t n, const float* v, const uint8_t* keep,
                                                       int64_t slots, int64_t dh, float* out) {
  const int64_t full = dh / 8 * 8;
  for (int64_t s = 0; s < slots; ++s) {
    if (!keep[s]) continue;
    const float* vs = v + s * dh;
    for (int64_t h = 0; h < n; ++h) {
      const float w = p[h * slots + s];
      const __m256 a = _mm256_set1_ps(w);
      float* o = out + h * dh;
      for (int64_t c = 0; c < full; c += 8) _mm256_storeu_ps(o + c, _mm256_fmadd_ps(a, _mm256_loadu_ps(vs + c), _mm256_loadu_ps(o + c)));
      for (int64_t c = full; c < dh; ++c) o[c] = std::fma(w, vs[c], o[c]);
    }
  }
}

// Y[r, o] = W[o, :] . X[r, :] for o in [first, last), every r < rows: the dot product inlined in
// the loop over weight rows (a call per row cost 12% of the read rate on the AMD EPYC: 29 vs
// 33 GB/s in a probe over SmolLM2's matrices).
#define SADI_DOT_ROWS(NAME, TARGET, DOT)                                                                     \
  __attribute__((target(TARGET))) void NAME(const float* w, int64_t in, int64_t first, int64_t last,        \
                                            const float* x, int64_t x_stride, int64_t rows, float* y,       \
                                            int64_t y_stride) {                                             \
    for (int64_t o = first; o < last; ++o) {                                                                \
      const float* wr = w + o * in;                                                                         \
      for (int64_t r = 0; r < rows; ++r) y[r * y_stride + o] = DOT(wr, x + r * x_stride, in);               \
    }                                                                                                       \
  }
SADI_DOT_ROWS(rows_avx512_prefetch, "avx512f", dot_avx512<true>)
SADI_DOT_ROWS(rows_avx512, "avx512f", dot_avx512<false>)
SADI_DOT_ROWS(rows_avx2, "avx2,fma", dot_avx2)
#undef SADI_DOT_ROWS

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

using DotFn = float (*)(const float*, const float*, int64_t);

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

enum class Isa { kGeneric, kAvx2, kAvx512 };

Isa best_isa() { return has_avx512() ? Isa::kAvx512 : has_avx2() ? Isa::kAvx2 : Isa::kGeneric; }

Isa g_isa = best_isa();

const char* isa() { return g_isa == Isa::kAvx512 ? "avx512" : g_isa == Isa::kAvx2 ? "avx2" : "generic"; }

bool is_amd() {
  static const bool yes = __builtin_cpu_is("amd");
  return yes;
}

DotFn dot_fn() {
  if (g_isa == Isa::kAvx512) return is_amd() ? dot_avx512<false> : dot_avx512<true>;
  return g_isa == Isa::kAvx2 ? dot_avx2 : dot_generic;
}

void rows_generic(const float* w, int64_t in, int64_t first, int64_t last, const float* x, int64_t x_stride,
                  int64_t rows, float* y, int64_t y_stride) {
  for (int64_t o = first; o < last; ++o) {
    for (int64_t r = 0; r < rows; ++r) y[r * y_stride + o] = dot_generic(w + o * in, x + r * x_stride, in);
  }
}

using RowsFn = void (*)(const float*, int64_t, int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t);

RowsFn rows_fn() {
  if (g_isa == Isa::kAvx512) return is_amd() ? rows_avx512 : rows_avx512_prefetch;
  return g_isa == Isa::kAvx2 ? rows_avx2 : rows_generic;
}

// p [n, slots] scores -> softmax weights over the kept slots, per head (max-shifted exp / sum, as
// the module's softmax).
void softmax_kept(float* p, int64_t n, const uint8_t* keep, int64_t slots) {
  for (int64_t h = 0; h < n; ++h) {
    float* ph = p + h * slots;
    float top = -INFINITY;
    for (int64_t s = 0; s < slots; ++s) {
      if (keep[s]) top = std::max(top, ph[s]);
    }
    float sum = 0.0f;
    for (int64_t s = 0; s < slots; ++s) {
      if (!keep[s]) continue;
      ph[s] = std::exp(ph[s] - top);
      sum += ph[s];
    }
    for (int64_t s = 0; s < slots; ++s) {
      if (keep[s]) ph[s] = ph[s] / sum;
    }
  }
}

// Generic: one running sum per value, in index order.
void scores_generic(const float* q, int64_t n, const float* k, const uint8_t* keep, int64_t slots, int64_t dh,
                    float scale, float* p) {
  for (int64_t s = 0; s < slots; ++s) {
    if (!keep[s]) continue;
    for (int64_t h = 0; h < n; ++h) {
      float sum = 0.0f;
      for (int64_t c = 0; c < dh; ++c) sum += k[s * dh + c] * q[h * dh + c];
      p[h * slots + s] = sum * scale;
    }
  }
}

void weighted_generic(const float* p, int64_t n, const float* v, const uint8_t* keep, int64_t slots, int64_t dh,
                      float* out) {
  for (int64_t s = 0; s < slots; ++s) {
    if (!keep[s]) continue;
    for (int64_t h = 0; h < n; ++h) {
      for (int64_t c = 0; c < dh; ++c) out[h * dh + c] += p[h * slots + s] * v[s * dh + c];
    }
  }
}

using ScoresFn = void (*)(const float*, int64_t, const float*, const uint8_t*, int64_t, int64_t, float, float*);
using WeightedFn = void (*)(const float*, int64_t, const float*, const uint8_t*, int64_t, int64_t, float*);

ScoresFn scores_fn() { return g_isa == Isa::kAvx512 ? scores_avx512 : g_isa == Isa::kAvx2 ? scores_avx2 : scores_generic; }

WeightedFn weighted_fn() {
  return g_isa == Isa::kAvx512 ? weighted_avx512 : g_isa == Isa::kAvx2 ? weighted_avx2 : weighted_generic;
}

}  // namespace

void attend(const float* q, int64_t n, const float* k, const float* v, const uint8_t* keep, int64_t slots, int64_t dh,
            float scale, float* out, float* scratch) {
  std::fill_n(out, n * dh, 0.0f);
  scores_fn()(q, n, k, keep, slots, dh, scale, scratch);
  softmax_kept(scratch, n, keep, slots);
  weighted_fn()(scratch, n, v, keep, slots, dh, out);
}

const char* kernel_isa() {
  if (openmp_enabled()) return isa();
  static const std::string generic = "generic, one thread: built without OpenMP",
                           avx2 = "avx2, one thread: built without OpenMP", avx512 = "avx512, one thread: built without OpenMP";
  const std::string name = isa();
  return (name == "avx512" ? avx512 : name == "avx2" ? avx2 : generic).c_str();
}
std::vector<std::string> available_isas() {
  std::vector<std::string> out{"generic"};
  if (has_avx2()) out.emplace_back("avx2");
  if (has_avx512()) out.emplace_back("avx512");
  return out;
}

void force_isa(const std::string& name) {
  const auto have = available_isas();
  if (name.empty()) {
    g_isa = best_isa();
  } else if (std::find(have.begin(), have.end(), name) == have.end()) {
    throw std::invalid_argument("native kernels: instruction set '" + name + "' is not one this CPU has");
  } else {
    g_isa = name == "avx512" ? Isa::kAvx512 : name == "avx2" ? Isa::kAvx2 : Isa::kGeneric;
  }
}

float dot(const float* a, const float* b, int64_t n) { return dot_fn()(a, b, n); }

bool openmp_enabled() {
#ifdef SADI_NATIVE_OPENMP
  return true;
#else
  return false;
#endif
}

int parallel_threads() {
  const int64_t n = 64 * at::get_num_threads();
  std::vector<int> seen(static_cast<size_t>(n), -1);
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) seen[static_cast<size_t>(i)] = at::get_thread_num();
  });
  std::sort(seen.begin(), seen.end());
  return static_cast<int>(std::unique(seen.begin(), seen.end()) - seen.begin());
}

void gemv(const float* w, int64_t out, int64_t in, const float* x, int64_t x_stride, float* y, int64_t y_stride,
          int64_t rows) {
  const RowsFn f = rows_fn();
  // One weight row after another: the matrix is streamed front to back, which this machine's
  // prefetchers turn into full read bandwidth (four rows interleaved reached half of it).
  at::parallel_for(0, out, 16, [&](int64_t begin, int64_t end) { f(w, in, begin, end, x, x_stride, rows, y, y_stride); });
}

void gemv_fused(const std::vector<GemvPart>& parts, int64_t in, const float* x, int64_t x_stride, int64_t rows) {
  const RowsFn f = rows_fn();
  int64_t total = 0;
  for (const auto& p : parts) total += p.out;
  at::parallel_for(0, total, 16, [&](int64_t begin, int64_t end) {
    int64_t first = 0;  // the global index of part k's row 0
    for (const GemvPart& p : parts) {
      const int64_t lo = std::max(begin, first) - first, hi = std::min(end, first + p.out) - first;
      if (lo < hi) f(p.w, in, lo, hi, x, x_stride, rows, p.y, p.y_stride);
      first += p.out;
    }
  });
}

}  // namespace sadi::native
