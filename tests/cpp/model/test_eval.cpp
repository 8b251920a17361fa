// lib/eval: the reference exact-match normalisation on crafted cases (shared with the Python
// port in tests/python/test_eval.py), and a whole grid in shared batches equal to each point alone.
#include <gtest/gtest.h>

#include "sadi/core/fs.hpp"
#include "sadi/core/json.hpp"
#include "sadi/eval/eval.hpp"
#include "sadi/eval/scoring.hpp"
#include "sadi/generate/generate.hpp"
#include "sadi/identify/identify.hpp"
#include "sadi/steer/planner.hpp"
#include "test_util.hpp"

using namespace sadi;

namespace {

// The tiny Llama with a tokenizer.json (no sentencepiece plugin, so these also run in the
// sanitizer build), the first n items of the bundled task and a mask identified on the bundled
// pairs: what every grid test starts from.
struct GridSetup {
  explicit GridSetup(size_t n)
      : model(load_model(test::testdata("llama-json"), {"cpu", ""})), tok(load_tokenizer(model->info())),
        items(read_task(std::filesystem::path(SADI_SOURCE_DIR) / "tests/data/task_small.jsonl")) {
    items.resize(n);
    auto pairs = read_pairs(std::filesystem::path(SADI_SOURCE_DIR) / "tests/data/pairs_small.jsonl");
    IdentifyStats stats;
    mask.sites = identify(*model, *tok, pairs, IdentifyOptions{}, stats);
  }
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tok;
  std::vector<TaskItem> items;
  MaskFile mask;
  Intervention plan(const InterventionSpec& spec) const {
    return plan_intervention(spec, {&mask, "mask"}, {&model->info(), model->device(), model->dtype()});
  }
  Intervention none() const { return plan(spec_of(Method::kNone)); }
};

// Scores each point alone and expects the log-likelihoods of the shared run `all` within 1e-4
// of them; returns the per-point scores alone.
std::vector<PointScore> expect_loglik_equal_alone(GridSetup& g, const std::vector<Intervention>& points,
                                                  const EvalRun& run, const std::vector<PointScore>& all) {
  std::vector<PointScore> alone;
  for (size_t p = 0; p < points.size(); ++p) {
    alone.push_back(evaluate(*g.model, *g.tok, g.items, {points[p]}, run)[0]);
    for (size_t i = 0; i < g.items.size(); ++i) {
      for (size_t c = 0; c < alone[p].loglik[i].size(); ++c) {
        EXPECT_NEAR(all[p].loglik[i][c], alone[p].loglik[i][c], test::tolerance("float32", "layouts")) << "point " << p << " item " << i;
      }
    }
  }
  return alone;
}

}  // namespace

TEST(ExactMatch, CraftedCasesAgreeWithTheExpectedTable) {
  const auto path = std::filesystem::path(SADI_SOURCE_DIR) / "tests/data/em_cases.json";
  Json cases = parse_json(read_text_file(path), path.string());
  ASSERT_GT(cases.size(), 10u);
  for (const auto& c : cases) {
    const auto pred = c["pred"].get<std::string>(), gold = c["gold"].get<std::string>();
    EXPECT_EQ(exact_match(pred, gold), c["reference"].get<bool>()) << c.dump();  // the default rule
    EXPECT_EQ(exact_match(pred, gold, MatchRule::kReference), c["reference"].get<bool>()) << c.dump();
    EXPECT_EQ(exact_match(pred, gold, MatchRule::kLenient), c["lenient"].get<bool>()) << c.dump();
  }
}

TEST(Eval, GridInSharedBatchesEqualsEachPointAlone) {
  GridSetup g(10);
  auto& model = g.model;
  auto& tok = g.tok;
  auto& items = g.items;
  auto& mask = g.mask;
  GridSpec grid;
  grid.methods = {Method::kSadi};
  grid.top_k = {1, 3};
  grid.delta = {0.0, 6.0, 30.0};
  const auto points = plan_grid(grid, {&mask, "mask"}, {&model->info(), model->device(), model->dtype()});
  ASSERT_EQ(points.size(), 7u);
  EvalRun run;
  run.metric = Metric::kChoice;
  run.batch_size = 13;  // rows of different points and items mix in each batch
  auto all = evaluate(*model, *tok, items, points, run);
  const auto alone = expect_loglik_equal_alone(g, points, run, all);
  bool moved = false;
  for (size_t p = 0; p < points.size(); ++p) {
    EXPECT_EQ(all[p].correct, alone[p].correct);
    for (size_t i = 0; i < items.size(); ++i) {
      for (size_t c = 0; c < all[p].loglik[i].size(); ++c) {
        moved = moved || std::abs(all[p].loglik[i][c] - all[0].loglik[i][c]) > 1e-3;
      }
    }
  }
  EXPECT_TRUE(moved);  // steering changes the scores
  // delta = 0 scores exactly like no steering (same batch composition: bit-identical)
  EXPECT_EQ(evaluate(*model, *tok, items, {points[1]}, run)[0].loglik,
            evaluate(*model, *tok, items, {points[0]}, run)[0].loglik);
}

TEST(Eval, ClampRowsOfDifferentSitesShareBatchesCorrectly) {
  // sadi (head) and caa (residual) rows in one clamp batch: each must be clamped with its own
  // site's clean values, so the shared run equals each point alone.
  GridSetup g(6);
  auto& model = g.model;
  auto& tok = g.tok;
  auto& items = g.items;
  InterventionSpec head;
  head.mode = Mode::kClamp;
  head.top_k = 2;
  head.delta = 20.0;
  InterventionSpec caa = head;
  caa.method = Method::kCaa;
  caa.delta = 30.0;
  std::vector<Intervention> points{g.none(), g.plan(head), g.plan(caa)};
  EvalRun run;
  run.metric = Metric::kChoice;
  run.batch_size = 36;  // every batch holds rows of all three points
  auto all = evaluate(*model, *tok, items, points, run);
  expect_loglik_equal_alone(g, points, run, all);
  EXPECT_GT(std::abs(all[2].loglik[0][0] - all[0].loglik[0][0]), 1e-3);  // caa does something
}

TEST(TriviaQaMatch, CraftedCasesAgreeWithTheExpectedTable) {
  const auto path = std::filesystem::path(SADI_SOURCE_DIR) / "tests/data/triviaqa_cases.json";
  Json cases = parse_json(read_text_file(path), path.string());
  ASSERT_GT(cases.size(), 10u);
  for (const auto& c : cases) {
    EXPECT_EQ(normalize_triviaqa(c["pred"].get<std::string>()), c["normalized"].get<std::string>()) << c.dump();
    EXPECT_EQ(triviaqa_match(c["pred"].get<std::string>(), c["golds"].get<std::vector<std::string>>()),
              c["match"].get<bool>())
        << c.dump();
  }
}

TEST(Eval, GenerateEmGridInSharedBatchesEqualsEachPointAlone) {
  GridSetup g(6);
  auto& model = g.model;
  auto& tok = g.tok;
  auto& items = g.items;
  std::vector<Intervention> points{g.none()};
  for (double d : {0.0, 40.0}) {
    InterventionSpec sc;
    sc.top_k = 4;
    sc.delta = d;
    points.push_back(g.plan(sc));
  }
  EvalRun run;
  run.metric = Metric::kGenerateEm;
  run.max_new_tokens = 6;
  run.stop = {};
  run.batch_size = 5;  // rows of different points and items mix in each batch
  auto all = evaluate(*model, *tok, items, points, run);
  for (size_t p = 0; p < points.size(); ++p) {
    auto alone = evaluate(*model, *tok, items, {points[p]}, run)[0];
    EXPECT_EQ(all[p].predictions, alone.predictions) << "point " << p;
    EXPECT_EQ(all[p].correct, alone.correct) << "point " << p;
  }
  EXPECT_EQ(all[1].predictions, all[0].predictions);  // delta = 0 is no steering
  EXPECT_NE(all[2].predictions, all[0].predictions);  // a strong delta changes the text
  // Scoring: with each item's answer set to the unsteered output, none scores 1 on every item
  // whose output normalises to something, and each generation equals generate_batch alone.
  auto own = items;
  for (size_t i = 0; i < own.size(); ++i) own[i].answer = all[0].predictions[i] + ".";
  auto rescored = evaluate(*model, *tok, own, {points[0]}, run)[0];
  for (size_t i = 0; i < own.size(); ++i) {
    if (!normalize_triviaqa(own[i].answer).empty()) {
      EXPECT_EQ(rescored.correct[i], 1) << i;
    }
    GenerateOptions g;
    g.max_new_tokens = 6;
    auto one = generate_batch(*model, *tok, {{items[i].id, items[i].prompt, 0}}, g);
    EXPECT_EQ(one[0].output, all[0].predictions[i]) << i;
  }
}
