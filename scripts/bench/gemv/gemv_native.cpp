// The same products with a plain hand-written kernel: AVX2 FMA, four rows at a time, rows split
// over OpenMP threads. A measurement of what this machine's memory allows a matrix-vector
// product at batch 1, not sadi code. Input: lines "OUT IN" (gemv_bench.sh writes them).
#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>

namespace {

float hsum(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_hadd_ps(h, h);
  h = _mm_hadd_ps(h, h);
  return _mm_cvtss_f32(h);
}

// y [out] = W [out, in] x [in]; out % 4 == 0, in % 8 == 0.
void gemv(const float* w, const float* x, float* y, int out, int in) {
#pragma omp parallel for schedule(static)
  for (int o = 0; o < out; o += 4) {
    __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    const float* r = w + static_cast<size_t>(o) * in;
    for (int i = 0; i < in; i += 8) {
      const __m256 xv = _mm256_loadu_ps(x + i);
      for (int k = 0; k < 4; ++k) a[k] = _mm256_fmadd_ps(_mm256_loadu_ps(r + static_cast<size_t>(k) * in + i), xv, a[k]);
    }
    for (int k = 0; k < 4; ++k) y[o + k] = hsum(a[k]);
  }
}

}  // namespace

int main() {
  std::vector<std::pair<int, int>> shapes;
  for (int o, i; std::cin >> o >> i;) shapes.emplace_back(o, i);
  std::vector<std::vector<float>> ws;
  double mb = 0;
  int widest = 0, tallest = 0;
  for (auto [o, i] : shapes) {
    ws.emplace_back(static_cast<size_t>(o) * i, 0.01f);
    mb += static_cast<double>(o) * i * 4 / 1e6;
    widest = std::max(widest, i);
    tallest = std::max(tallest, o);
  }
  std::vector<float> x(widest, 1.0f), y(tallest);
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    double best = 1e9;
    for (int r = 0; r < 6; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t k = 0; k < ws.size(); ++k) gemv(ws[k].data(), x.data(), y.data(), shapes[k].first, shapes[k].second);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (r > 0 && s < best) best = s;  // the first run warms up
    }
    std::printf("threads %d  %-22s %7.1f ms per token  %5.1f GB/s (%.0f MB)\n", threads, "native AVX2+OpenMP",
                best * 1e3, mb / best / 1e3, mb);
  }
}
