// lib/eval's significance (significance.hpp) on made-up scores: the exact McNemar p-value, the
// paired interval, and that the selection-aware interval carries the luck of the dev selection.
#include <gtest/gtest.h>

#include <cmath>

#include "sadi/eval/significance.hpp"

using namespace sadi;

namespace {

// n flags of which the first `ones` are 1.
std::vector<uint8_t> flags(size_t n, size_t ones) {
  std::vector<uint8_t> v(n, 0);
  for (size_t i = 0; i < ones; ++i) v[i] = 1;
  return v;
}

ScoredPoint point(Method m, int64_t k, std::vector<uint8_t> dev, std::vector<uint8_t> test) {
  ScoredPoint s;
  s.point = {m, k, 1.0, 0, -1};
  s.dev.correct = std::move(dev);
  s.test.correct = std::move(test);
  return s;
}

}  // namespace

TEST(Significance, ExactMcNemarIsTwiceTheBinomialTail) {
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(3, 3), 1.0);                        // capped at 1
  EXPECT_NEAR(mcnemar_exact_p(5, 1), 2.0 * 7.0 / 64.0, 1e-12);          // 2 (C(6,0) + C(6,1)) / 2^6
  EXPECT_NEAR(mcnemar_exact_p(2, 10), 2.0 * 79.0 / 4096.0, 1e-12);      // symmetric in b, c
  EXPECT_NEAR(mcnemar_exact_p(31, 0), std::pow(2.0, -30), 1e-20);
  EXPECT_NEAR(mcnemar_exact_p(400, 360), 0.15711719727568094, 1e-9);    // scipy.stats.binomtest(360, 760).pvalue
}

TEST(Significance, PairedIntervalOfAConstantDifferenceIsThatDifference) {
  const Interval i = paired_interval(std::vector<double>(50, 0.25), 1);
  EXPECT_DOUBLE_EQ(i.lo, 0.25);
  EXPECT_DOUBLE_EQ(i.hi, 0.25);
}

TEST(Significance, SelectionAwareIntervalCarriesTheLuckOfTheDevSelection) {
  // Two SADI points nearly tied on dev (51 vs 49 of 100) but far apart on test (80% vs 20%):
  // the plain interval of the selected point sits near 0.8; resampling dev flips the selection
  // often, so the selection-aware interval reaches down towards 0.2.
  std::vector<ScoredPoint> all;
  all.push_back(point(Method::kNone, 0, flags(100, 50), flags(200, 100)));
  std::vector<uint8_t> dev_b(100, 0);
  for (size_t i = 51; i < 100; ++i) dev_b[i] = 1;  // 49 right, on other items than point A's
  all.push_back(point(Method::kSadi, 1, flags(100, 51), flags(200, 160)));
  all.push_back(point(Method::kSadi, 2, dev_b, flags(200, 40)));
  const auto sig = significance(all, 0, 1000);
  ASSERT_TRUE(sig);
  Interval sadi{};
  for (const auto& [m, ci] : sig->selection_ci95) {
    if (m == Method::kSadi) sadi = ci;
  }
  EXPECT_LT(sadi.lo, 0.3);
  EXPECT_GT(sadi.hi, 0.7);
  ASSERT_EQ(sig->vs_sadi.size(), 1u);
  const Comparison& c = sig->vs_sadi[0];  // against none (50% on test): SADI's point A
  EXPECT_EQ(c.method, Method::kNone);
  EXPECT_NEAR(c.diff, 0.3, 1e-12);
  EXPECT_GT(c.diff_ci95.lo, 0.15);            // the paired interval alone looks convincing
  EXPECT_LT(c.selection_diff_ci95.lo, -0.2);  // the selection-aware one does not
  EXPECT_EQ(c.only_sadi, 60);                 // items 100..159 (none: the first 100 right)
  EXPECT_EQ(c.only_baseline, 0);
}
