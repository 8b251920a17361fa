// lib/steer without a model: the planner (elements, tensors, errors naming fields) and the one
// steered forward (which steering inputs reach the model, live and clamp).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "fake_model.hpp"
#include "sadi/core/error.hpp"
#include "sadi/steer/planner.hpp"
#include "sadi/steer/steered_forward.hpp"

using namespace sadi;
using sadi::test::FakeModel;

namespace {

// Mask scores for the fake model: the last layer's elements first (heads: (2,1), (2,0), (1,0),
// (1,1), ...); mean_diff = l + u/10, mean_diff_full = the flat index.
MaskFile fake_mask(const ModelInfo& info) {
  MaskFile m;
  for (const auto& si : info.sites) {
    SiteScores s;
    s.site = si.site;
    s.n_layers = info.n_layers;
    s.units = si.score_units;
    s.group = si.group;
    for (int64_t l = 0; l < s.n_layers; ++l) {
      for (int64_t u = 0; u < s.units; ++u) s.mean_diff.push_back(static_cast<float>(l) + static_cast<float>(u) / 10.0f);
    }
    if (si.group > 1) {
      for (int64_t i = 0; i < s.n_layers * si.units; ++i) s.mean_diff_full.push_back(static_cast<float>(i));
    }
    std::vector<std::pair<int, int>> order;
    for (int l = static_cast<int>(s.n_layers) - 1; l >= 0; --l) {
      for (int u = static_cast<int>(s.units) - 1; u >= 0; --u) order.emplace_back(l, (u + l) % static_cast<int>(s.units));
    }
    for (auto [l, u] : order) {
      s.ranking.push_back(l);
      s.ranking.push_back(u);
    }
    m.sites.push_back(s);
  }
  return m;
}

struct Planner : ::testing::Test {
  FakeModel model;
  MaskFile mask = fake_mask(model.info());
  Intervention plan(const InterventionSpec& spec) {
    return plan_intervention(spec, {&mask, "m.h5"}, {&model.info(), torch::kCPU, torch::kFloat32});
  }
  std::string error_of(const InterventionSpec& spec, std::string* field = nullptr) {
    try {
      plan(spec);
    } catch (const Error& e) {
      if (field) *field = e.field();
      return e.what();
    }
    return "";
  }
};

}  // namespace

TEST_F(Planner, SadiScalesTheTopKElementsOverTheirWholeGroup) {
  InterventionSpec spec;
  spec.top_k = 2;
  spec.delta = 3.0;
  auto iv = plan(spec);
  // ranking starts (2, 1) then (2, 0) for heads (H = 2): both heads of layer 2
  EXPECT_EQ(iv.elements, (std::vector<int64_t>{2 * 2 + 1, 2 * 2 + 0}));
  EXPECT_EQ(iv.layers, std::vector<int64_t>{2});
  ASSERT_TRUE(iv.scale.defined());
  EXPECT_FALSE(iv.add.defined());
  EXPECT_EQ(iv.scale.sizes().vec(), (std::vector<int64_t>{3, 8}));  // [L, H*Dh]
  EXPECT_EQ(iv.scale.sum().item<float>(), 3.0f * 8);
  EXPECT_EQ(iv.scale[2].min().item<float>(), 3.0f);
  EXPECT_EQ(iv.label, (InterventionLabel{Method::kSadi, 2, 3.0, 0}));
}

TEST_F(Planner, FixedRawAddsDeltaTimesTheFullMeanDifferenceUnderTheMask) {
  InterventionSpec spec;
  spec.method = Method::kFixedRaw;
  spec.top_k = 1;
  spec.delta = 2.0;
  auto iv = plan(spec);
  ASSERT_TRUE(iv.add.defined());
  // element (2, 1): layer 2, head 1 = units 4..7 of layer 2, mean_diff_full = 20..23
  auto expect = torch::zeros({3, 8});
  for (int u = 4; u < 8; ++u) expect[2][u] = 2.0f * static_cast<float>(16 + u);
  EXPECT_TRUE(torch::equal(iv.add, expect));
}

TEST_F(Planner, RandomIsSeededAndDiffersBetweenSeeds) {
  InterventionSpec spec;
  spec.method = Method::kRandom;
  spec.top_k = 3;
  spec.delta = 1.0;
  spec.seed = 7;
  auto a = plan(spec), b = plan(spec);
  spec.seed = 8;
  auto c = plan(spec);
  EXPECT_EQ(a.elements, b.elements);
  EXPECT_NE(a.elements, c.elements);
  EXPECT_EQ(a.label.seed, 7u);
}

// Random draws: K distinct elements of the whole site; over many seeds every element is drawn,
// and the draws are not SADI's top-K (issue 30: a random baseline that silently returned the
// top-K, or a corner of the site, would pass a test that only compares two seeds).
TEST_F(Planner, RandomDrawsCoverTheWholeSiteAndAreNotTheTopK) {
  for (Site site : {Site::kHead, Site::kNeuron}) {
    const SiteInfo& si = model.info().site(site);
    const int64_t total = model.info().n_layers * si.score_units;
    InterventionSpec spec;
    spec.site = site;
    spec.top_k = 3;
    spec.delta = 1.0;
    spec.method = Method::kSadi;
    auto top = plan(spec).elements;
    std::sort(top.begin(), top.end());
    spec.method = Method::kRandom;
    std::set<int64_t> seen;
    int same_as_top = 0;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      spec.seed = seed;
      auto e = plan(spec).elements;
      ASSERT_EQ(e.size(), 3u);
      std::sort(e.begin(), e.end());
      EXPECT_EQ(std::adjacent_find(e.begin(), e.end()), e.end()) << "seed " << seed;  // distinct
      for (int64_t x : e) {
        EXPECT_GE(x, 0);
        EXPECT_LT(x, total);
        seen.insert(x);
      }
      same_as_top += e == top;
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), total) << site_name(site);
    EXPECT_LT(same_as_top, 50) << site_name(site);  // head: 1 in C(6, 3) = 20 draws by chance
  }
}

TEST_F(Planner, CaaAddsAtTheChosenLayersOfTheResidualStream) {
  InterventionSpec spec;
  spec.method = Method::kCaa;
  spec.top_k = 5;  // ignored: caa has no K
  spec.delta = 10.0;
  spec.caa_layers = {1};
  auto iv = plan(spec);
  EXPECT_EQ(iv.site, Site::kResidual);
  EXPECT_EQ(iv.layers, std::vector<int64_t>{1});
  EXPECT_EQ(iv.label.top_k, 0);
  EXPECT_EQ(iv.add[0].abs().sum().item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(iv.add[1][3].item<float>(), 10.0f * 1.3f);
}

TEST_F(Planner, DeltaZeroEditsNothingButStillSteers) {
  InterventionSpec spec;
  spec.top_k = 2;
  auto iv = plan(spec);
  EXPECT_TRUE(iv.layers.empty());
  EXPECT_TRUE(iv.steers());
  EXPECT_FALSE(plan(spec_of(Method::kNone)).steers());
}

TEST_F(Planner, ErrorsNameTheField) {
  std::string field;
  InterventionSpec spec;
  spec.top_k = 99;
  EXPECT_EQ(error_of(spec, &field), "top_k 99: the head site has 6 elements; expected 1 to 6");
  EXPECT_EQ(field, "top_k");
  spec.top_k = 1;
  spec.delta = std::numeric_limits<double>::infinity();
  EXPECT_EQ(error_of(spec, &field), "delta: expected a finite number, found inf");
  spec.delta = 1e39;  // finite as a double, infinite in float32
  EXPECT_NE(error_of(spec, &field).find("expected a finite number in float32"), std::string::npos);
  spec.delta = 1;
  spec.method = Method::kCaa;
  spec.caa_layers = {3};
  EXPECT_EQ(error_of(spec, &field), "caa.layers: layer 3 out of range [0, 3)");
  spec.method = Method::kSadi;
  spec.mode = Mode::kClamp;
  spec.positions = Positions::kAll;
  error_of(spec, &field);
  EXPECT_EQ(field, "positions");
  EXPECT_THROW(parse_method("sadx"), Error);
  EXPECT_EQ(method_name(parse_method("caa")), std::string("caa"));
}

TEST_F(Planner, GridErrorsNameTheGridsOwnList) {
  auto field_of = [&](const GridSpec& g) -> std::string {
    try {
      plan_grid(g, {&mask, "m.h5"}, {&model.info(), torch::kCPU, torch::kFloat32});
    } catch (const Error& e) {
      return e.field();
    }
    return "";
  };
  GridSpec g;
  g.top_k = {1};
  g.delta = {4};
  g.methods = {Method::kCaa};
  g.common.caa_layers = {0};
  g.caa_multipliers = {1e39};
  EXPECT_EQ(field_of(g), "caa_multipliers");
  g.methods = {Method::kIti};
  g.iti_alpha = {1e39};
  EXPECT_EQ(field_of(g), "iti_alpha");
  g.iti_alpha = {1};
  g.iti_top_k = {99};
  EXPECT_EQ(field_of(g), "iti_top_k");
  g.iti_top_k = {};
  g.top_k = {99};
  // iti without its own K list takes its default, not --top-k's 99: what stops it now is the
  // fixture's mask, which has no ITI scores
  EXPECT_EQ(field_of(g), "mask");
}

TEST(ItiGrid, DefaultKReachesFortyEightHeadsCappedByTheModelsHeads) {
  EXPECT_EQ(iti_default_top_k(270), (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 48}));  // SmolLM2-135M: 30 x 9
  EXPECT_EQ(iti_default_top_k(48), (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 48}));
  EXPECT_EQ(iti_default_top_k(16), (std::vector<int64_t>{1, 2, 4, 8, 16}));
  EXPECT_EQ(iti_default_top_k(12), (std::vector<int64_t>{1, 2, 4, 8, 12}));
  EXPECT_EQ(iti_default_top_k(1), (std::vector<int64_t>{1}));
}

TEST_F(Planner, GridIsNoneThenEachMethodKByDelta) {
  GridSpec g;
  g.methods = {Method::kSadi, Method::kCaa, Method::kRandom};
  g.top_k = {1, 2};
  g.delta = {4, 9};
  g.caa_multipliers = {4, 9};
  g.common.caa_layers = {0};
  g.random_seeds = 1;
  auto pts = plan_grid(g, {&mask, "m.h5"}, {&model.info(), torch::kCPU, torch::kFloat32});
  ASSERT_EQ(pts.size(), 1u + 4 + 2 + 4);
  EXPECT_EQ(pts[0].label.method, Method::kNone);
  EXPECT_EQ(pts[1].label, (InterventionLabel{Method::kSadi, 1, 4, 0}));
  EXPECT_EQ(pts[4].label, (InterventionLabel{Method::kSadi, 2, 9, 0}));
  EXPECT_EQ(pts[5].label, (InterventionLabel{Method::kCaa, 0, 4, 0, 0}));
  EXPECT_EQ(pts[7].label.method, Method::kRandom);
}

TEST_F(Planner, LiveForwardSendsOneTensorPerLayerWithZerosForOtherRows) {
  InterventionSpec spec;
  spec.top_k = 1;
  spec.delta = 5;
  auto sadi = plan(spec);
  auto none = plan(spec_of(Method::kNone));
  spec.method = Method::kCaa;
  spec.caa_layers = {0};
  auto caa = plan(spec);
  const int64_t b = 3, t = 4;
  ForwardInput in{torch::zeros({b, t}, torch::kInt64), torch::zeros({b, t}, torch::kInt64),
                  torch::ones({b, t}, torch::kBool), 0, torch::zeros({b, 1}, torch::kInt64), nullptr, {}};
  auto at = torch::zeros({b, t}, torch::kBool);
  at.select(1, t - 1).fill_(true);
  steered_forward(model, in, nullptr, {&sadi, &none, &caa}, at);
  ASSERT_EQ(model.calls.size(), 1u);
  const auto& s = model.calls[0].steer;
  EXPECT_EQ(s.size(), 4u);  // head.at, head.2.scale, residual.at, residual.0.add
  EXPECT_TRUE(torch::equal(s.at("head.at"), torch::tensor({false, false, false, true, false, false, false, false,
                                                            false, false, false, false}).view({3, 4})));
  EXPECT_TRUE(torch::equal(s.at("head.2.scale")[0], sadi.scale[2]));
  EXPECT_EQ(s.at("head.2.scale")[1].abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(s.at("residual.0.add")[2], caa.add[0]));
  EXPECT_EQ(s.at("residual.at")[2][t - 1].item<bool>(), true);
  EXPECT_EQ(s.at("residual.at")[0].any().item<bool>(), false);
  // No steering at all: the model gets none.
  steered_forward(model, in, nullptr, {&none, nullptr, &none}, at);
  EXPECT_TRUE(model.calls[1].steer.empty());
}

TEST_F(Planner, ClampReadsCleanValuesThenEditsThemInEveryLayer) {
  InterventionSpec spec;
  spec.mode = Mode::kClamp;
  spec.top_k = 1;
  spec.delta = 2;
  auto sadi = plan(spec);
  auto none = plan(spec_of(Method::kNone));
  const int64_t b = 2, t = 3;
  ForwardInput in{torch::zeros({b, t}, torch::kInt64), torch::zeros({b, t}, torch::kInt64),
                  torch::ones({b, t}, torch::kBool), 0, torch::zeros({b, 1}, torch::kInt64), nullptr, {}};
  auto at = torch::zeros({b, t}, torch::kBool);
  at.select(1, 1).fill_(true);
  auto col = torch::full({b, 1}, 1, torch::kInt64);
  BatchSteering steering({&none, &sadi}, model);
  steering.forward(model, in, nullptr, at, col);
  ASSERT_EQ(model.calls.size(), 2u);  // the clean pass, then the steered one
  EXPECT_TRUE(model.calls[0].steer.empty());
  EXPECT_TRUE(torch::equal(model.calls[0].capture.at(Site::kHead), col));
  const auto& s = model.calls[1].steer;
  for (int64_t l = 0; l < 3; ++l) {  // every layer overwritten, rows of this site only
    const std::string k = "head." + std::to_string(l) + ".";
    ASSERT_TRUE(s.count(k + "base")) << l;
    EXPECT_TRUE(torch::equal(s.at(k + "base_rows"), torch::tensor({false, true})));
    EXPECT_FLOAT_EQ(s.at(k + "base")[1][5].item<float>(), FakeModel::value(1, 1, l, 5));
    EXPECT_TRUE(torch::equal(s.at(k + "scale")[1], sadi.scale[l]));
  }
}

// The controls and baselines against plain computations of their edits.
namespace {

Calibration fake_calibration(const ModelInfo& info) {  // acts [n=3, L, U] = (i + 1) * (l + 1) + u / 8
  const auto& si = info.site(Site::kHead);
  auto acts = torch::zeros({3, info.n_layers, si.units});
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t l = 0; l < info.n_layers; ++l) {
      for (int64_t u = 0; u < si.units; ++u) {
        acts[i][l][u] = static_cast<float>((i + 1) * (l + 1)) + static_cast<float>(u) / 8.0f;
      }
    }
  }
  return {Site::kHead, acts, "dev"};
}

}  // namespace

TEST_F(Planner, FixedAddsTheMeanOfSadisOwnEditOverCalibrationInputs) {
  Calibration cal = fake_calibration(model.info());
  InterventionSpec spec;
  spec.method = Method::kFixed;
  spec.top_k = 1;  // element (2, 1): layer 2, units 4..7
  spec.delta = 3.0;
  auto iv = plan_intervention(spec, {&mask, "m.h5", &cal}, {&model.info(), torch::kCPU, torch::kFloat32});
  auto expect = torch::zeros({3, 8});
  for (int u = 4; u < 8; ++u) {
    double mean = 0;
    for (int i = 0; i < 3; ++i) mean += ((i + 1) * 3 + u / 8.0) / 3.0;
    expect[2][u] = 3.0 * mean;
  }
  EXPECT_TRUE(torch::allclose(iv.add, expect, 1e-6, 1e-6)) << iv.add;
  EXPECT_FALSE(iv.scale.defined());
  // Without calibration the error names it.
  std::string field;
  EXPECT_NE(error_of(spec, &field).find("calibration inputs"), std::string::npos);
  EXPECT_EQ(field, "calibration");
}

TEST_F(Planner, FixedDirIsTheMaskedMeanDifferenceAtTheMeanNormOfSadisEdit) {
  Calibration cal = fake_calibration(model.info());
  InterventionSpec spec;
  spec.method = Method::kFixedDir;
  spec.top_k = 1;
  spec.delta = -2.0;
  auto iv = plan_intervention(spec, {&mask, "m.h5", &cal}, {&model.info(), torch::kCPU, torch::kFloat32});
  double target = 0;  // mean over inputs of |delta * (A ⊙ M)|
  for (int i = 0; i < 3; ++i) {
    double ss = 0;
    for (int u = 4; u < 8; ++u) ss += std::pow((i + 1) * 3 + u / 8.0, 2);
    target += 2.0 * std::sqrt(ss) / 3.0;
  }
  double dn = 0;  // |Delta ⊙ M|: mean_diff_full of layer 2, units 4..7 = 20..23
  for (int u = 4; u < 8; ++u) dn += std::pow(16.0 + u, 2);
  dn = std::sqrt(dn);
  auto expect = torch::zeros({3, 8});
  for (int u = 4; u < 8; ++u) expect[2][u] = -(16.0 + u) / dn * target;  // delta < 0: the opposite direction
  EXPECT_TRUE(torch::allclose(iv.add, expect, 1e-5, 1e-6)) << iv.add;
  EXPECT_NEAR(iv.add.norm().item<double>(), target, 1e-5);
}

TEST_F(Planner, ItiAddsAlphaSigmaThetaOnTheHeadsOfBestProbeAccuracy) {
  SiteScores& h = mask.sites[0];
  ASSERT_EQ(h.site, Site::kHead);
  InterventionSpec spec;
  spec.method = Method::kIti;
  spec.top_k = 1;
  spec.delta = 5.0;
  std::string field;
  EXPECT_NE(error_of(spec, &field).find("no ITI scores"), std::string::npos);
  h.iti.sigma = {1, 2, 3, 4, 5, 6};                    // [L=3, H=2]
  h.iti.probe_accuracy = {0.5, 0.6, 0.9, 0.7, 0.5, 0.5};
  h.iti.ranking = {1, 0, 1, 1, 0, 1, 0, 0, 2, 0, 2, 1};  // (1,0) best
  for (int i = 0; i < 24; ++i) h.iti.direction.push_back(static_cast<float>(i % 4) / 4.0f);
  auto iv = plan(spec);
  EXPECT_EQ(iv.site, Site::kHead);
  EXPECT_EQ(iv.positions, Positions::kFromPromptLast);  // ITI's rule: every token from the prompt's end
  EXPECT_EQ(iv.elements, std::vector<int64_t>{2});       // layer 1, head 0
  auto expect = torch::zeros({3, 8});
  for (int u = 0; u < 4; ++u) expect[1][u] = 5.0f * 3.0f * static_cast<float>((8 + u) % 4) / 4.0f;
  EXPECT_TRUE(torch::allclose(iv.add, expect)) << iv.add;
}

TEST_F(Planner, CaaDefaultsToTheMiddleLayerAndItsAuthorsPositionsAndAlwaysRunsLive) {
  InterventionSpec spec;
  spec.method = Method::kCaa;
  spec.delta = 1.0;
  spec.mode = Mode::kClamp;
  auto iv = plan(spec);
  EXPECT_EQ(iv.layers, std::vector<int64_t>{1});  // L = 3: 3 / 2
  EXPECT_EQ(iv.label.layer, 1);
  EXPECT_EQ(iv.mode, Mode::kLive);
  EXPECT_EQ(iv.positions, Positions::kFromPromptLast);
}

TEST_F(Planner, RandomGridHasEverySeedAndCaaEveryLayerAsOwnPoints) {
  GridSpec g;
  g.methods = {Method::kRandom, Method::kCaa};
  g.top_k = {1};
  g.delta = {2};
  g.random_seeds = 3;
  g.common.seed = 10;
  g.caa_multipliers = {1, 2};
  auto pts = plan_grid(g, {&mask, "m.h5"}, {&model.info(), torch::kCPU, torch::kFloat32});
  ASSERT_EQ(pts.size(), 1u + 3 + 3 * 2);
  EXPECT_EQ(pts[1].label.seed, 10u);
  EXPECT_EQ(pts[3].label.seed, 12u);
  EXPECT_EQ(pts[4].label.layer, 0);
  EXPECT_EQ(pts[9].label.layer, 2);
  EXPECT_EQ(pts[9].label.delta, 2.0);
}

TEST_F(Planner, EachRowIsSteeredAtItsOwnPositions) {
  InterventionSpec spec;
  spec.top_k = 1;
  spec.delta = 1;
  auto last = plan(spec);
  spec.positions = Positions::kPromptAll;
  auto prompt = plan(spec);
  spec.method = Method::kCaa;
  auto caa = plan(spec);  // from-prompt-last
  auto none = plan(spec_of(Method::kNone));
  BatchSteering steering({&last, &prompt, &caa, &none}, model);
  auto key = torch::ones({4, 5}, torch::kBool);
  key[1][0] = false;  // row 1 left-padded by one
  auto at = steering.at(key, {2, 2, 2, 2});
  auto expect = torch::tensor({false, false, true, false, false,   //
                               false, true, true, false, false,    //
                               false, false, true, true, true,     //
                               false, false, false, false, false}).view({4, 5});
  EXPECT_TRUE(torch::equal(at, expect)) << at;
  EXPECT_TRUE(steering.steers_decode());
  EXPECT_TRUE(torch::equal(steering.decode_at(), torch::tensor({false, false, true, false}).view({4, 1})));
}

TEST_F(Planner, ClampAndLiveRowsShareABatch) {
  InterventionSpec spec;
  spec.top_k = 1;
  spec.delta = 2;
  spec.mode = Mode::kClamp;
  auto clamp = plan(spec);
  spec.mode = Mode::kLive;
  auto live = plan(spec);
  const int64_t b = 2, t = 3;
  ForwardInput in{torch::zeros({b, t}, torch::kInt64), torch::zeros({b, t}, torch::kInt64),
                  torch::ones({b, t}, torch::kBool), 0, torch::zeros({b, 1}, torch::kInt64), nullptr, {}};
  BatchSteering steering({&live, &clamp}, model);
  auto at = steering.at(in.key_mask, {1, 1});
  steering.forward(model, in, nullptr, at, torch::full({b, 1}, 1, torch::kInt64));
  ASSERT_EQ(model.calls.size(), 2u);  // the clean pass, then the steered one
  const auto& s = model.calls[1].steer;
  EXPECT_TRUE(torch::equal(s.at("head.0.base_rows"), torch::tensor({false, true})));  // only the clamp row
  EXPECT_TRUE(torch::equal(s.at("head.2.scale")[0], live.scale[2]));
  EXPECT_TRUE(torch::equal(s.at("head.2.scale")[1], clamp.scale[2]));
}
