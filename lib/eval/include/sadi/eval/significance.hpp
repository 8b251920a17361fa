#pragma once
// How sure a comparison is: SADI's dev-selected point against each baseline's on the same test
// items (docs/eval.md, "Significance").
//  - exact McNemar test on the items one method gets right and the other wrong;
//  - a paired bootstrap interval of the accuracy difference (items resampled, both methods alike);
//  - selection-aware intervals: each resample draws the dev items and the test items again,
//    repeats every method's selection on the resampled dev split (its whole grid; random: each
//    seed's own), and scores the selected points on the resampled test split, so the interval
//    carries the luck of the selection as well as that of the test items.
// The random baseline has no single selected point: its per-item correctness is the mean over
// seeds, its p-value a paired sign-flip permutation test instead of McNemar.
#include <cstdint>
#include <optional>
#include <vector>

#include "sadi/eval/eval.hpp"
#include "sadi/eval/results.hpp"

namespace sadi {

// Two-sided exact McNemar p-value from the discordant counts (b: only the first method right,
// c: only the second): min(1, 2 P(X <= min(b, c))), X ~ Binomial(b + c, 1/2); 1 when b + c = 0.
double mcnemar_exact_p(int64_t b, int64_t c);

// Per-item differences d_i in [-1, 1]: two-sided p-value of a paired sign-flip permutation test
// of mean(d) (Monte Carlo, seeded; the observed arrangement counted, so p >= 1 / (draws + 1)).
double sign_flip_p(const std::vector<double>& d, uint64_t seed, int draws = 10000);

// Percentile bootstrap interval (2.5%, 97.5%) of mean(d), items resampled.
Interval paired_interval(const std::vector<double>& d, uint64_t seed, int resamples = 2000);

struct Comparison {
  Method method = Method::kNone;      // the baseline compared with SADI
  int64_t n = 0;                      // test items
  double diff = 0;                    // test accuracy: SADI - baseline
  int64_t only_sadi = 0, only_baseline = 0;  // discordant items (random: not reported, -1)
  double p = 1;                       // McNemar exact (random: sign-flip permutation)
  const char* test = "mcnemar-exact";
  Interval diff_ci95;                 // paired bootstrap
  Interval selection_diff_ci95;       // selection-aware bootstrap of the difference
};

struct Significance {
  std::vector<std::pair<Method, Interval>> selection_ci95;  // each selected method's accuracy, selection-aware
  std::vector<Comparison> vs_sadi;                          // each baseline against SADI
  int resamples = 0;
};

// Null without a dev split or without SADI points. Seeded by `seed`: the same inputs give the
// same numbers.
std::optional<Significance> significance(const std::vector<ScoredPoint>& all, uint64_t seed, int resamples = 2000);

}  // namespace sadi
