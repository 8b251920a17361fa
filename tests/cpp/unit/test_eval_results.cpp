// lib/eval without a model: the results codec and merge, partial results and resume, shards,
// the dev split, and the sampler.
#include <gtest/gtest.h>

#include <random>

#include "sadi/core/error.hpp"
#include "sadi/eval/checkpoint.hpp"
#include "sadi/eval/job.hpp"
#include "sadi/eval/report.hpp"
#include "sadi/eval/results.hpp"
#include "sadi/generate/generate.hpp"

using namespace sadi;

namespace {

std::vector<TaskItem> items(int n) {
  std::vector<TaskItem> v;
  for (int i = 0; i < n; ++i) v.push_back({"i" + std::to_string(i), "p", "a", {}, {}, i + 1, i});
  return v;
}

PointScore score(const std::vector<uint8_t>& correct, Metric metric) {
  PointScore s;
  s.correct = correct;
  s.seconds = -1;
  if (metric == Metric::kChoice) {
    s.correct_norm = correct;
    for (auto c : correct) s.loglik.push_back({-1.0 - c, -2.5});
  }
  if (metric == Metric::kGenerateEm) {
    for (auto c : correct) s.predictions.push_back(c ? "yes" : "no");
  }
  return s;
}

// A whole result over n test and n dev items: none is right on even items, sadi on all but item 1.
EvalResult whole(int n, Metric metric) {
  EvalResult r;
  r.metric = metric;
  r.seed = 3;
  r.has_dev = true;
  r.header = {{"metric", metric_name(metric)}, {"mode", "live"}, {"site", "head"}, {"seed", 3},
              {"grid", {{"top_k", {1}}, {"delta", {4.0}}}}, {"model", {{"dir", "/m"}, {"fingerprint", "f"}}},
              {"task", {{"file", "/t"}, {"sha256", "x"}, {"n_test", n}}}, {"mask", nullptr}, {"em_rule", "reference"},
              {"dev", {{"fraction", 0.5}, {"seed", 3}, {"n", n}}}};
  std::vector<uint8_t> none, sadi;
  for (int i = 0; i < n; ++i) {
    none.push_back(i % 2 == 0);
    sadi.push_back(i != 1);
  }
  r.points.push_back({{Method::kNone, 0, 0, 0}, score(none, metric), score(none, metric)});
  r.points.push_back({{Method::kSadi, 1, 4.0, 0}, score(sadi, metric), score(sadi, metric)});
  return r;
}

// Shard I of N of `r`, as sadi eval --shard I/N would write it.
Json shard_of(const EvalResult& r, int index, int count) {
  EvalResult s = r;
  s.whole = false;
  const auto n = r.points[0].test.correct.size();
  s.header["shard"] = {{"index", index}, {"count", count}, {"n_test", n}, {"n_dev", n}};
  auto keep = [&](const PointScore& p) {
    PointScore q = p;
    q.correct.clear();
    q.correct_norm.clear();
    q.predictions.clear();
    q.loglik.clear();
    for (size_t i = 0; i < p.correct.size(); ++i) {
      if (static_cast<int>(i) % count != index - 1) continue;
      q.correct.push_back(p.correct[i]);
      if (!p.loglik.empty()) q.loglik.push_back(p.loglik[i]);
      if (!p.correct_norm.empty()) q.correct_norm.push_back(p.correct_norm[i]);
      if (!p.predictions.empty()) q.predictions.push_back(p.predictions[i]);
    }
    return q;
  };
  for (auto& p : s.points) {
    p.test = keep(p.test);
    p.dev = keep(p.dev);
  }
  s.header["task"]["n_test"] = s.points[0].test.correct.size();
  s.header["dev"]["n"] = s.points[0].dev.correct.size();
  return encode_result(s);
}

}  // namespace

TEST(Results, EncodeSelectsOnDevAndLabelsTheOracle) {
  const Json j = encode_result(whole(6, Metric::kExactMatch));
  EXPECT_EQ(j["points"].size(), 2u);
  EXPECT_EQ(j["points"][1]["method"], "sadi");
  EXPECT_DOUBLE_EQ(j["points"][0]["test"]["accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["selected"]["sadi"]["test_accuracy"].get<double>(), 5.0 / 6.0);
  EXPECT_TRUE(j["selected"].contains("none"));
  EXPECT_EQ(j["oracle"]["top_k"], 1);
  EXPECT_FALSE(j["points"][0]["test"].contains("seconds"));
}

TEST(Results, MergedShardsEqualTheWholeRunForEveryMetric) {
  for (Metric m : {Metric::kExactMatch, Metric::kChoice, Metric::kGenerateEm}) {
    const EvalResult w = whole(7, m);
    std::vector<ShardResult> shards;
    for (int i : {2, 3, 1}) shards.push_back({"s" + std::to_string(i), shard_of(w, i, 3)});
    EvalResult merged = merge_shards(shards);
    EXPECT_TRUE(merged.whole);
    ASSERT_EQ(merged.points.size(), 2u);
    for (size_t p = 0; p < 2; ++p) {
      EXPECT_EQ(merged.points[p].test.correct, w.points[p].test.correct) << metric_name(m);
      EXPECT_EQ(merged.points[p].test.loglik, w.points[p].test.loglik) << metric_name(m);
      EXPECT_EQ(merged.points[p].dev.correct, w.points[p].dev.correct);
      EXPECT_EQ(merged.points[p].test.predictions, w.points[p].test.predictions);
      EXPECT_EQ(merged.points[p].test.correct_norm, w.points[p].test.correct_norm);
    }
    Json a = encode_result(merged), b = encode_result(w);
    EXPECT_EQ(a["points"], b["points"]);
    EXPECT_EQ(a["selected"], b["selected"]);
  }
}

TEST(Results, MergeRefusesMissingDuplicatedAndForeignShards) {
  const EvalResult w = whole(6, Metric::kChoice);
  auto msg = [](const std::vector<ShardResult>& s) {
    try {
      merge_shards(s);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg({{"a", shard_of(w, 1, 2)}}).find("the run has 2 shards, 1 given"), std::string::npos);
  EXPECT_NE(msg({{"a", shard_of(w, 1, 2)}, {"b", shard_of(w, 1, 2)}}).find("given twice"), std::string::npos);
  Json other = shard_of(w, 2, 2);
  other["seed"] = 4;
  EXPECT_NE(msg({{"a", shard_of(w, 1, 2)}, {"b", other}}).find("b: key 'seed'"), std::string::npos);
}

// Every key that identifies a run (the list --resume also checks) refuses a shard whose value
// differs; paths and split sizes may differ.
TEST(Results, MergeRefusesAShardThatDiffersInAnyRunIdentityKey) {
  const EvalResult w = whole(6, Metric::kExactMatch);
  for (const char* key : kRunIdentityKeys) {
    // another metric: a valid result of it (a misspelt metric is refused by the codec first)
    Json other = std::string(key) == "metric" ? shard_of(whole(6, Metric::kChoice), 2, 2) : shard_of(w, 2, 2);
    Json& v = other[key];
    if (std::string(key) == "metric") {
    } else if (v.is_object()) {
      v["changed"] = 1;
    } else if (v.is_string()) {
      v = v.get<std::string>() + "-other";
    } else if (v.is_number()) {
      v = v.get<int64_t>() + 1;
    } else {
      v = "other";
    }
    try {
      merge_shards({{"a", shard_of(w, 1, 2)}, {"b", other}});
      ADD_FAILURE() << "merged shards that differ in '" << key << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("b: key '") + key + "'"), std::string::npos) << e.what();
    }
  }
  Json moved = shard_of(w, 2, 2);
  moved["model"]["dir"] = "/elsewhere";
  moved["task"]["file"] = "/elsewhere/t";
  EXPECT_NO_THROW(merge_shards({{"a", shard_of(w, 1, 2)}, {"b", moved}}));
}

TEST(Checkpoint, PartialResultRoundTripsAndResumeNamesTheChangedKey) {
  RowCheckpoint test{10, 4, {1.5, -2, std::numeric_limits<double>::infinity(), 0}, {}};
  RowCheckpoint dev{6, 0, {}, {}};
  const Json config{{"tool_version", "x"}, {"seed", 1}, {"top_k", {1, 2}}};
  const Json partial = partial_result(config, test, &dev, Metric::kChoice, "sadi eval ...");
  EXPECT_TRUE(is_partial_result(partial));
  RowCheckpoint t2, d2;
  resume_from_partial(partial, config, Metric::kChoice, "out.json", t2, d2);
  EXPECT_EQ(t2.rows_done, 4);
  EXPECT_EQ(t2.rows_total, 10);
  EXPECT_EQ(t2.values, test.values);
  EXPECT_EQ(d2.rows_total, 6);
  Json changed = config;
  changed["top_k"] = {1, 3};
  try {
    resume_from_partial(partial, changed, Metric::kChoice, "out.json", t2, d2);
    FAIL() << "a changed grid must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("out.json: key 'resume.config.top_k'"), std::string::npos) << e.what();
  }
  RowCheckpoint texts{3, 2, {}, {"a", "b"}};
  const Json gen = partial_result(config, texts, nullptr, Metric::kGenerateEm, "c");
  resume_from_partial(gen, config, Metric::kGenerateEm, "o", t2, d2);
  EXPECT_EQ(t2.texts, texts.texts);
}

TEST(Splits, ShardsPartitionTheItemsAndParseRefusesBadSpecs) {
  const auto all = items(7);
  std::vector<int64_t> seen;
  for (int64_t i = 1; i <= 3; ++i) {
    for (const auto& it : select_shard(all, Shard{i, 3}, [](const TaskItem& t) { return t.index; })) seen.push_back(it.index);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(parse_shard("2/8").index, 2);
  for (const char* bad : {"0/2", "3/2", "x/2", "1/", "1/2/3"}) {
    try {
      parse_shard(bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.field(), "shard");
    }
  }
}

TEST(Splits, DevSplitIsSeededAndPartitions) {
  const auto all = items(20);
  std::vector<TaskItem> d1, t1, d2, t2, d3, t3;
  split_dev(all, 0.25, 1, d1, t1);
  split_dev(all, 0.25, 1, d2, t2);
  split_dev(all, 0.25, 2, d3, t3);
  EXPECT_EQ(d1.size(), 5u);
  EXPECT_EQ(t1.size(), 15u);
  std::vector<std::string> ids;
  for (const auto& v : {d1, t1}) {
    for (const auto& it : v) ids.push_back(it.id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
  EXPECT_EQ(ids.size(), 20u);
  auto id_list = [](const std::vector<TaskItem>& v) {
    std::vector<std::string> o;
    for (const auto& it : v) o.push_back(it.id);
    return o;
  };
  EXPECT_EQ(id_list(d1), id_list(d2));
  EXPECT_NE(id_list(d1), id_list(d3));
  EXPECT_EQ(t1[3].index, 3);  // re-indexed from 0 in file order
  EXPECT_THROW(split_dev(all, 1.0, 1, d1, t1), Error);
}

TEST(Sampler, GreedyIsTheFirstMaxAndSamplingIsSeeded) {
  auto logits = torch::tensor({0.1f, 2.0f, 2.0f, -1.0f});
  GenerateOptions g;
  std::mt19937_64 rng(0);
  EXPECT_EQ(sample_token(logits, g, rng), 1);
  g.temperature = 1.0;
  g.top_k = 1;
  EXPECT_EQ(sample_token(logits, g, rng), 1);
  g.top_k = 0;
  std::vector<int64_t> a, b;
  std::mt19937_64 r1(5), r2(5);
  for (int i = 0; i < 50; ++i) {
    a.push_back(sample_token(logits, g, r1));
    b.push_back(sample_token(logits, g, r2));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(std::count(a.begin(), a.end(), 2), 0);  // ties are both drawn
  g.top_p = 0.4;  // the nucleus holds only the first of the tied best tokens (0.45 >= 0.4)
  for (int i = 0; i < 20; ++i) EXPECT_EQ(sample_token(logits, g, r1), 1);
}

TEST(RandomSummary, EachSeedSelectedOnDevThenMeanSdAndSadisPercentile) {
  // Two points per seed; the dev-better one of each seed counts. Test accuracies: seed 0 -> 0.25,
  // seed 1 -> 0.75, seed 2 -> 0.5; SADI's selected point scores 0.5 on test.
  std::vector<ScoredPoint> all;
  auto add = [&](Method m, uint64_t seed, std::vector<uint8_t> dev, std::vector<uint8_t> test) {
    all.push_back({{m, 1, 1.0, seed, -1}, score(dev, Metric::kExactMatch), score(test, Metric::kExactMatch)});
  };
  add(Method::kSadi, 0, {1, 1, 0, 0}, {1, 1, 0, 0});
  add(Method::kRandom, 0, {1, 0, 0, 0}, {1, 1, 1, 1});  // worse on dev: not chosen
  add(Method::kRandom, 0, {1, 1, 0, 0}, {1, 0, 0, 0});
  add(Method::kRandom, 1, {1, 1, 1, 0}, {1, 1, 1, 0});
  add(Method::kRandom, 1, {0, 0, 0, 0}, {0, 0, 0, 0});
  add(Method::kRandom, 2, {1, 0, 0, 0}, {1, 1, 0, 0});
  add(Method::kRandom, 2, {1, 0, 0, 0}, {0, 0, 0, 0});  // a tie on dev: the first in grid order
  const auto r = summarize_random(all);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->per_seed.size(), 3u);
  EXPECT_EQ(r->per_seed[0], &all[2]);
  EXPECT_EQ(r->per_seed[2], &all[5]);
  EXPECT_DOUBLE_EQ(r->test_mean, 0.5);
  EXPECT_DOUBLE_EQ(r->test_sd, 0.25);
  EXPECT_DOUBLE_EQ(r->sadi_percentile, 50.0);  // one seed below, one tie (half), one above: 1.5 / 3
  // The results JSON carries it under selected.random and no longer a single random point.
  EvalResult res;
  res.has_dev = true;
  res.points = all;
  const Json j = encode_result(res);
  EXPECT_EQ(j["selected"]["random"]["seeds"], 3);
  EXPECT_DOUBLE_EQ(j["selected"]["random"]["sadi_percentile"].get<double>(), 50.0);
  EXPECT_EQ(j["points"][1]["seed"], 0);
}
