// lib/identify without a model: the statistics behind a mask (Welford per pair, Chan's merge of
// shards), the scores and ranking made from them, ITI's probes and the bootstrap's stability.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sadi/identify/evidence.hpp"
#include "sadi/identify/identify.hpp"

using namespace sadi;

namespace {

// Statistics of rows d [n, L, U] computed directly: mean and sum of squared deviations, float64.
SiteStats direct_stats(const torch::Tensor& d) {
  auto x = d.to(torch::kFloat64);
  auto mean = x.mean(0);
  return SiteStats{x.size(0), mean, (x - mean).pow(2).sum(0), torch::Tensor()};
}

}  // namespace

TEST(Stats, CombiningTwoDisjointHalvesEqualsTheWholeSet) {
  torch::manual_seed(7);
  auto d = torch::randn({13, 2, 3}, torch::kFloat64) * 3 + 1;
  const SiteStats all = direct_stats(d);
  const SiteStats c = combine_stats(direct_stats(d.slice(0, 0, 5)), direct_stats(d.slice(0, 5)));
  EXPECT_EQ(c.n, 13);
  EXPECT_TRUE(torch::allclose(c.mean, all.mean, 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(c.m2, all.m2, 1e-10, 1e-10));
  const SiteStats none{};  // an empty side changes nothing
  EXPECT_TRUE(torch::equal(combine_stats(none, all).mean, all.mean));
  EXPECT_TRUE(torch::equal(combine_stats(all, none).m2, all.m2));
}

TEST(Stats, ScoresRankSignedOrAbsoluteWithTiesLowerIndexFirst) {
  // 1 layer, 4 units: mean differences 0.5, -2, 0.5, 1 over 4 pairs.
  auto d = torch::tensor({0.5, -2.0, 0.5, 1.0}, torch::kFloat64).view({1, 1, 4}).repeat({4, 1, 1});
  d[0][0][3] = 0.0;  // unit 3 varies: 0, 1, 1, 1 + 1/3 -> mean 1.0 with spread
  d[1][0][3] = 4.0 / 3.0;
  d[2][0][3] = 4.0 / 3.0;
  d[3][0][3] = 4.0 / 3.0;
  const SiteStats st = direct_stats(d);
  const SiteScores s = scores_from_stats(Site::kNeuron, 4, 1, st, RankRule::kSigned, 2, true);
  EXPECT_EQ(s.ranking, (std::vector<int32_t>{0, 3, 0, 0, 0, 2, 0, 1}));  // 1.0, 0.5 (unit 0 before 2), 0.5, -2
  EXPECT_EQ(s.mask, (std::vector<uint8_t>{1, 0, 0, 1}));
  EXPECT_EQ(s.top_k, 2);
  EXPECT_EQ(s.count, 4);
  const SiteScores a = scores_from_stats(Site::kNeuron, 4, 1, st, RankRule::kAbs, 0, false);
  EXPECT_EQ(a.ranking, (std::vector<int32_t>{0, 1, 0, 3, 0, 0, 0, 2}));  // |-2| first
  EXPECT_TRUE(a.mask.empty());
  EXPECT_TRUE(a.stat_mean.empty());
  // z = mean / (sample sd / sqrt(n)); units without spread get 0; the population std is stored
  const double sd3 = std::sqrt(st.m2[0][3].item<double>() / 3.0);
  EXPECT_NEAR(s.zscore[3], 1.0 / (sd3 / 2.0), 1e-4);
  EXPECT_EQ(s.zscore[0], 0.0f);
  EXPECT_NEAR(s.std[3], std::sqrt(st.m2[0][3].item<double>() / 4.0), 1e-6);
  EXPECT_EQ(s.stat_m2.size(), 4u);
}

TEST(Stability, IdenticalPairsGiveFullOverlapAndNoisyOnesLess) {
  auto same = torch::arange(10, torch::kFloat32).repeat({20, 1});  // every pair ranks 9, 8, ...
  auto st = bootstrap_stability(same, false, 50, 1, {1, 2, 4}, 2);
  EXPECT_EQ(st.k, (std::vector<int64_t>{1, 2, 4}));
  for (float o : st.overlap_mean) EXPECT_FLOAT_EQ(o, 1.0f);
  EXPECT_FLOAT_EQ(st.frequency[9], 1.0f);
  EXPECT_FLOAT_EQ(st.frequency[0], 0.0f);
  torch::manual_seed(0);
  auto noise = torch::randn({20, 10});  // no element stands out: the top-1 changes between resamples
  auto sn = bootstrap_stability(noise, false, 50, 1, {1}, 1);
  EXPECT_LT(sn.overlap_mean[0], 0.9f);
  EXPECT_GT(sn.overlap_sd[0], 0.0f);
  float total = 0;
  for (float f : sn.frequency) total += f;
  EXPECT_NEAR(total, 1.0f, 1e-5);  // each resample has exactly one top-1 element
}

TEST(Iti, DirectionSpreadAndProbeOnSyntheticHeads) {
  // 40 pairs, 1 layer, 2 heads of 2 values. Head 0 separates (positive +1, negative -1 on its
  // first value, noise on the second); head 1 is noise only.
  torch::manual_seed(3);
  const int64_t n = 40;
  auto pos = torch::randn({n, 1, 4}) * 0.1;
  auto neg = torch::randn({n, 1, 4}) * 0.1;
  pos.select(2, 0) += 1.0;
  neg.select(2, 0) -= 1.0;
  const ItiScores s = iti_scores(pos, neg, 2, 0.25, 0);
  EXPECT_EQ(s.val_pairs, 10);
  EXPECT_EQ(s.train_pairs, 30);
  EXPECT_NEAR(s.direction[0], 1.0, 0.02);  // theta_0 points along the first value
  EXPECT_NEAR(std::hypot(s.direction[2], s.direction[3]), 1.0, 1e-5);  // unit length
  EXPECT_NEAR(s.sigma[0], 1.0, 0.05);      // projections at about +-1
  EXPECT_FLOAT_EQ(s.probe_accuracy[0], 1.0f);
  EXPECT_LT(s.probe_accuracy[1], 0.9f);
  EXPECT_EQ(s.ranking[1], 0);              // head 0 first
}

TEST(Iti, TiedProbesRankTheLaterHeadFirstAsHonestLlamaAndTheHeldOutPairsAreRecorded) {
  // Four heads of identical separable data: every probe scores 1.0; honest_llama's
  // np.argsort(acc)[::-1] puts the last (layer, head) first.
  torch::manual_seed(5);
  const int64_t n = 20;
  auto one = torch::randn({n, 1, 1}) * 0.1 + 1.0;
  auto pos = one.repeat({1, 2, 2}), neg = (-one).repeat({1, 2, 2});  // [N, L=2, H*Dh=2*1]
  const ItiScores s = iti_scores(pos, neg, 2, 0.25, 7);
  for (float a : s.probe_accuracy) EXPECT_FLOAT_EQ(a, 1.0f);
  EXPECT_EQ(s.ranking, (std::vector<int32_t>{1, 1, 1, 0, 0, 1, 0, 0}));
  ASSERT_EQ(static_cast<int64_t>(s.val_index.size()), s.val_pairs);
  EXPECT_TRUE(std::is_sorted(s.val_index.begin(), s.val_index.end()));
  EXPECT_EQ(std::adjacent_find(s.val_index.begin(), s.val_index.end()), s.val_index.end());
  EXPECT_LT(s.val_index.back(), n);
}
