#include "sadi/eval/significance.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "sadi/eval/report.hpp"

namespace sadi {
namespace {

Interval percentile_interval(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))]; };
  return {at(0.025), at(0.975)};
}

// One method's candidates for selection: groups of points (random: one group per seed) whose
// per-item correctness is read as 0/1 rows.
struct Candidates {
  Method method = Method::kNone;
  std::vector<std::vector<const ScoredPoint*>> groups;  // selection runs within each group
};

std::vector<Candidates> candidates_of(const std::vector<ScoredPoint>& all) {
  std::vector<Candidates> out;
  for (Method m : all_methods()) {
    Candidates c{m, {}};
    std::map<uint64_t, size_t> group_of;  // random: seed -> group
    for (const auto& s : all) {
      if (s.point.method != m || s.dev.correct.empty()) continue;
      const uint64_t key = m == Method::kRandom ? s.point.seed : 0;
      if (!group_of.count(key)) {
        group_of[key] = c.groups.size();
        c.groups.emplace_back();
      }
      c.groups[group_of[key]].push_back(&s);
    }
    if (!c.groups.empty()) out.push_back(std::move(c));
  }
  return out;
}

// Hits of `correct` under resample counts w (items drawn w_i times).
int64_t hits(const std::vector<uint8_t>& correct, const std::vector<int32_t>& w) {
  int64_t h = 0;
  for (size_t i = 0; i < correct.size(); ++i) h += correct[i] * w[i];
  return h;
}

// The test accuracy of what a method selects on the resampled dev split (random: the mean over
// seeds of each seed's selection), scored on the resampled test split.
double selected_accuracy(const Candidates& c, const std::vector<int32_t>& dev_w, const std::vector<int32_t>& test_w,
                         int64_t n_test) {
  double sum = 0;
  for (const auto& group : c.groups) {
    const ScoredPoint* best = nullptr;
    int64_t best_hits = -1;
    for (const ScoredPoint* s : group) {  // ties: the first in grid order, as select_on_dev
      const int64_t h = hits(s->dev.correct, dev_w);
      if (h > best_hits) {
        best_hits = h;
        best = s;
      }
    }
    sum += static_cast<double>(hits(best->test.correct, test_w)) / static_cast<double>(n_test);
  }
  return sum / static_cast<double>(c.groups.size());
}

std::vector<int32_t> draw_counts(size_t n, std::mt19937_64& rng) {
  std::vector<int32_t> w(n, 0);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  for (size_t i = 0; i < n; ++i) ++w[pick(rng)];
  return w;
}

// Per-item correctness of a method's dev-selected point (random: mean over seeds), as doubles.
std::vector<double> selected_items(const std::vector<ScoredPoint>& all, Method m) {
  std::vector<const ScoredPoint*> chosen;
  if (m == Method::kRandom) {
    if (auto r = summarize_random(all)) chosen = r->per_seed;
  } else if (const ScoredPoint* p = select_on_dev(all, m)) {
    chosen = {p};
  }
  if (chosen.empty()) return {};
  std::vector<double> out(chosen.front()->test.correct.size(), 0.0);
  for (const ScoredPoint* p : chosen) {
    for (size_t i = 0; i < out.size(); ++i) out[i] += p->test.correct[i] / static_cast<double>(chosen.size());
  }
  return out;
}

}  // namespace

double mcnemar_exact_p(int64_t b, int64_t c) {
  const int64_t n = b + c, k = std::min(b, c);
  if (n == 0) return 1.0;
  double tail = 0;  // P(X <= k), X ~ Bin(n, 1/2), summed in log space
  for (int64_t i = 0; i <= k; ++i) {
    tail += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) - n * std::log(2.0));
  }
  return std::min(1.0, 2.0 * tail);
}

double sign_flip_p(const std::vector<double>& d, uint64_t seed, int draws) {
  double observed = 0;
  for (double x : d) observed += x;
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution flip(0.5);
  int extreme = 1;  // the observed arrangement
  for (int r = 0; r < draws; ++r) {
    double s = 0;
    for (double x : d) s += flip(rng) ? -x : x;
    extreme += std::abs(s) >= std::abs(observed) - 1e-12 ? 1 : 0;
  }
  return static_cast<double>(extreme) / static_cast<double>(draws + 1);
}

Interval paired_interval(const std::vector<double>& d, uint64_t seed, int resamples) {
  if (d.empty()) return {};
  std::mt19937_64 rng(seed);
  std::vector<double> means;
  for (int r = 0; r < resamples; ++r) {
    const auto w = draw_counts(d.size(), rng);
    double s = 0;
    for (size_t i = 0; i < d.size(); ++i) s += d[i] * w[i];
    means.push_back(s / static_cast<double>(d.size()));
  }
  return percentile_interval(std::move(means));
}

namespace {

// One baseline against SADI: per-item flags (random: the mean over seeds) and both methods'
// selection-aware accuracies per resample.
Comparison compare(Method method, const std::vector<double>& sadi, const std::vector<double>& baseline,
                   const std::vector<double>& sadi_resampled, const std::vector<double>& baseline_resampled,
                   uint64_t seed) {
  Comparison c;
  c.method = method;
  c.n = static_cast<int64_t>(sadi.size());
  std::vector<double> d(sadi.size());
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = sadi[i] - baseline[i];
    c.diff += d[i] / static_cast<double>(d.size());
    if (d[i] > 0) ++c.only_sadi;
    if (d[i] < 0) ++c.only_baseline;
  }
  if (method == Method::kRandom) {  // fractional per-item correctness: no discordant pairs to count
    c.only_sadi = c.only_baseline = -1;
    c.p = sign_flip_p(d, seed);
    c.test = "sign-flip-permutation";
  } else {
    c.p = mcnemar_exact_p(c.only_sadi, c.only_baseline);
  }
  c.diff_ci95 = paired_interval(d, seed);
  std::vector<double> sel_diff(sadi_resampled.size());
  for (size_t r = 0; r < sel_diff.size(); ++r) sel_diff[r] = sadi_resampled[r] - baseline_resampled[r];
  c.selection_diff_ci95 = percentile_interval(std::move(sel_diff));
  return c;
}

}  // namespace

std::optional<Significance> significance(const std::vector<ScoredPoint>& all, uint64_t seed, int resamples) {
  const ScoredPoint* sadi = select_on_dev(all, Method::kSadi);
  if (!sadi || sadi->test.correct.empty()) return std::nullopt;
  const size_t n_test = sadi->test.correct.size(), n_dev = sadi->dev.correct.size();
  const auto cands = candidates_of(all);
  // Selection-aware: one resample of dev and test items shared by every method.
  std::vector<std::vector<double>> acc(cands.size());  // [method][resample]
  std::mt19937_64 rng(seed);
  for (int r = 0; r < resamples; ++r) {
    const auto dev_w = draw_counts(n_dev, rng);
    const auto test_w = draw_counts(n_test, rng);
    for (size_t m = 0; m < cands.size(); ++m) {
      acc[m].push_back(selected_accuracy(cands[m], dev_w, test_w, static_cast<int64_t>(n_test)));
    }
  }
  Significance out;
  out.resamples = resamples;
  size_t sadi_index = 0;
  for (size_t m = 0; m < cands.size(); ++m) {
    out.selection_ci95.emplace_back(cands[m].method, percentile_interval(acc[m]));
    if (cands[m].method == Method::kSadi) sadi_index = m;
  }
  const std::vector<double> s = selected_items(all, Method::kSadi);
  for (size_t m = 0; m < cands.size(); ++m) {
    if (cands[m].method == Method::kSadi) continue;
    out.vs_sadi.push_back(compare(cands[m].method, s, selected_items(all, cands[m].method), acc[sadi_index], acc[m], seed));
  }
  return out;
}

}  // namespace sadi
