// Benchmark helper (not a test, not sadi code): how the AVX-512 dot product of sadi's native
// decode step (lib/model/src/native/kernels.cpp) reads a matrix-vector product's weights, one
// thread, 540 MB on 2 MiB pages (madvise, as huge_pages.cpp), rows of IN floats: a plain AVX-512
// read of the buffer, the dot per row without prefetch, with a software prefetch 512 B to 8 KiB
// ahead, and four rows at a time. Best of 7 passes each. Build and run:
//   g++ -O3 -o /tmp/gemv_prefetch scripts/bench/bandwidth/gemv_prefetch.cpp && /tmp/gemv_prefetch 576
#include <immintrin.h>
#include <sys/mman.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <algorithm>
#include <vector>
template <int PF>
__attribute__((target("avx512f"))) float dotpf(const float* a, const float* b, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    if constexpr (PF > 0) {  // PF bytes ahead; 0: no prefetch
      for (int line = 0; line < 4; ++line) _mm_prefetch((const char*)(a + i) + PF + 64 * line, _MM_HINT_T0);
    }
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), a1);
    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), a2);
    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), a3);
  }
  for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), a0);
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
// 4 rows at once, rows are contiguous so 4 adjacent streams
__attribute__((target("avx512f"))) void dot4(const float* w, const float* x, int64_t n, float* y) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = 0; i < n; i += 16) {
    __m512 xv = _mm512_loadu_ps(x + i);
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), xv, s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + n + i), xv, s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 2 * n + i), xv, s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 3 * n + i), xv, s3);
  }
  y[0] = _mm512_reduce_add_ps(s0); y[1] = _mm512_reduce_add_ps(s1); y[2] = _mm512_reduce_add_ps(s2); y[3] = _mm512_reduce_add_ps(s3);
}
__attribute__((target("avx512f"))) double readall(const float* x, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 64 <= n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i)); a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32)); a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
int main(int argc, char** argv) {
  const int64_t in = argc > 1 ? atoi(argv[1]) : 576;
  const size_t bytes = size_t(540) << 20;
  const int64_t out = bytes / 4 / in;
  const size_t align = size_t(2) << 20;
  void* p = mmap(nullptr, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  float* w = (float*)(((uintptr_t)p + align - 1) & ~(align - 1));
  madvise(w, bytes, MADV_HUGEPAGE);
  for (size_t i = 0; i < bytes / 4; ++i) w[i] = (i % 7) * 0.01f;
  std::vector<float> x(in, 0.5f), y(out);
  auto run = [&](const char* name, auto f) {
    double best = 1e9;
    for (int r = 0; r < 7; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      f();
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, s);
    }
    printf("%-10s in=%ld: %.2f GB/s\n", name, (long)in, bytes / best / 1e9);
  };
  volatile double sink = 0;
  run("read", [&] { sink = sink + readall(w, bytes / 4); });
  run("dot", [&] { for (int64_t o = 0; o < out; ++o) y[o] = dotpf<0>(w + o * in, x.data(), in); });
  run("dotpf512", [&] { for (int64_t o = 0; o < out; ++o) y[o] = dotpf<512>(w + o * in, x.data(), in); });
  run("dotpf1024", [&] { for (int64_t o = 0; o < out; ++o) y[o] = dotpf<1024>(w + o * in, x.data(), in); });
  run("dotpf2048", [&] { for (int64_t o = 0; o < out; ++o) y[o] = dotpf<2048>(w + o * in, x.data(), in); });
  run("dotpf4096", [&] { for (int64_t o = 0; o < out; ++o) y[o] = dotpf<4096>(w + o * in, x.data(), in); });
  run("dotpf8192", [&] { for (int64_t o = 0; o < out; ++o) y[o] = dotpf<8192>(w + o * in, x.data(), in); });
  run("dot4", [&] { for (int64_t o = 0; o + 4 <= out; o += 4) dot4(w + o * in, x.data(), in, &y[o]); });
  return 0;
}
