// Benchmark helper (not a test): read bandwidth of this machine as sadi's native decode step sees
// it: a buffer much larger than the caches, on 4 KiB or on 2 MiB pages (transparent huge pages
// asked for with madvise, as lib/model/src/native/huge_pages.cpp does), summed with the widest
// loads this CPU has (AVX-512 or AVX2: build with -march=native), with and without software
// prefetch, the buffer split in contiguous parts over OpenMP threads. Best of R passes of each.
//   read_native [MiB] [repeat]  ->  one line per (pages, threads): GB/s (10^9 bytes per second)
#include <immintrin.h>
#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

namespace {

float* map_buffer(size_t bytes, bool huge) {
  const size_t align = size_t{2} << 20;
  void* p = mmap(nullptr, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap");
    std::exit(1);
  }
  auto* base = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + align - 1) & ~(align - 1));
  madvise(base, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  std::fill(base, base + bytes / sizeof(float), 1.0f);
  return base;
}

#ifdef __AVX512F__
using Vec = __m512;
constexpr int kLanes = 16;
constexpr const char* kLoads = "avx512";
inline Vec vzero() { return _mm512_setzero_ps(); }
inline Vec vadd(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec vload(const float* p) { return _mm512_loadu_ps(p); }
inline float vsum(Vec v) { return _mm512_reduce_add_ps(v); }
#else
using Vec = __m256;
constexpr int kLanes = 8;
constexpr const char* kLoads = "avx2";
inline Vec vzero() { return _mm256_setzero_ps(); }
inline Vec vadd(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec vload(const float* p) { return _mm256_loadu_ps(p); }
inline float vsum(Vec v) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, v);
  float s = 0;
  for (float x : lanes) s += x;
  return s;
}
#endif

// ahead > 0: each step also prefetches the cache lines `ahead` bytes on (as sadi's AVX-512 dot
// does), so the probe is not beaten by a technique the decode step uses.
double read_all(const float* x, size_t n, int threads, int ahead) {
  double total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num()), nt = static_cast<size_t>(omp_get_num_threads());
    const size_t lo = n / nt * t, hi = t + 1 == nt ? n : n / nt * (t + 1);
    Vec a0 = vzero(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = lo;
    for (; i + 4 * kLanes <= hi; i += 4 * kLanes) {
      if (ahead > 0) {
        const char* next = reinterpret_cast<const char*>(x + i) + ahead;
        for (int line = 0; line < 4 * kLanes * 4 / 64; ++line) _mm_prefetch(next + 64 * line, _MM_HINT_T0);
      }
      a0 = vadd(a0, vload(x + i));
      a1 = vadd(a1, vload(x + i + kLanes));
      a2 = vadd(a2, vload(x + i + 2 * kLanes));
      a3 = vadd(a3, vload(x + i + 3 * kLanes));
    }
    total += vsum(vadd(vadd(a0, a1), vadd(a2, a3)));
    for (; i < hi; ++i) total += x[i];
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 5;
  const size_t bytes = mib << 20, n = bytes / sizeof(float);
  for (bool huge : {false, true}) {
    const float* x = map_buffer(bytes, huge);
    for (int threads : {1, 2}) {
      double best = 1e30, sink = 0;
      for (int r = 0; r < repeat; ++r) {
        for (int ahead : {0, 2048}) {
          const auto t0 = std::chrono::steady_clock::now();
          sink += read_all(x, n, threads, ahead);
          best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
      }
      std::printf("read bandwidth: %s pages, %d thread%s: %.1f GB/s (%zu MiB, %s loads, best of %d plain and %d "
                  "prefetching passes; checksum %.0f)\n",
                  huge ? "2 MiB" : "4 KiB", threads, threads == 1 ? "" : "s", static_cast<double>(bytes) / best / 1e9,
                  mib, kLoads, repeat, repeat, sink);
    }
    munmap(const_cast<float*>(x), bytes);
  }
}
