#include <algorithm>
#include <numeric>

#include "sadi/generate/generate.hpp"

namespace sadi {

int64_t sample_token(const torch::Tensor& logits, const GenerateOptions& opts, std::mt19937_64& rng) {
  auto l = logits.contiguous();
  const float* p = l.data_ptr<float>();
  const int64_t v = l.numel();
  if (opts.temperature <= 0.0) return static_cast<int64_t>(std::max_element(p, p + v) - p);  // first max
  std::vector<int64_t> idx(static_cast<size_t>(v));
  std::iota(idx.begin(), idx.end(), 0);
  // Descending by logit; ties by id, so the order is fully determined.
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
  size_t keep = idx.size();
  if (opts.top_k > 0) keep = std::min(keep, static_cast<size_t>(opts.top_k));
  std::vector<double> w(keep);
  const double mx = p[idx[0]];
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) {
    w[i] = std::exp((p[idx[i]] - mx) / opts.temperature);
    sum += w[i];
  }
  if (opts.top_p < 1.0) {
    double cum = 0;
    size_t n = 0;
    while (n < keep) {
      cum += w[n] / sum;
      ++n;
      if (cum >= opts.top_p) break;
    }
    keep = n;
    sum = std::accumulate(w.begin(), w.begin() + static_cast<long>(keep), 0.0);
  }
  std::uniform_real_distribution<double> u(0.0, sum);
  double r = u(rng), acc = 0;
  for (size_t i = 0; i < keep; ++i) {
    acc += w[i];
    if (r < acc) return idx[i];
  }
  return idx[keep - 1];
}

}  // namespace sadi
