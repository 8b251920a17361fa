#include "sadi/eval/results.hpp"

#include "sadi/eval/report.hpp"

namespace sadi {
namespace {

Json split_json(const PointScore& p, uint64_t seed, Metric metric) {
  Interval ci = bootstrap_interval(p.correct, seed);
  Json j{{"accuracy", accuracy(p.correct)}, {"n", p.correct.size()}, {"ci95", {ci.lo, ci.hi}},
         {"correct", p.correct}};
  if (p.seconds >= 0) j["seconds"] = p.seconds;  // only with --timing: keeps results reproducible
  if (metric == Metric::kChoice) {
    j["accuracy_length_normalised"] = accuracy(p.correct_norm);
    j["correct_length_normalised"] = p.correct_norm;
  }
  if (metric == Metric::kGenerateEm) j["predictions"] = p.predictions;
  return j;
}

// Adds "points", "selected" and (when SADI points exist) "oracle" to `results`. With
// select = false (one shard of a run) "selected" stays empty and there is no oracle.
void add_scores(Json& results, const std::vector<ScoredPoint>& all, bool has_dev, uint64_t seed, Metric metric,
                bool select) {
  Json pts = Json::array();
  for (const auto& s : all) {
    Json j{{"method", method_name(s.point.method)}, {"top_k", s.point.top_k}, {"delta", s.point.delta},
           {"test", split_json(s.test, seed, metric)}};
    if (has_dev) j["dev"] = split_json(s.dev, seed, metric);
    pts.push_back(j);
  }
  results["points"] = pts;
  results["selected"] = Json::object();
  if (!select) return;
  Json selected = Json::object();
  for (Method m : all_methods()) {
    const ScoredPoint* best = has_dev ? select_on_dev(all, m) : nullptr;
    if (!best) continue;
    Interval ci = bootstrap_interval(best->test.correct, seed);
    selected[method_name(m)] = {{"top_k", best->point.top_k}, {"delta", best->point.delta},
                   {"dev_accuracy", accuracy(best->dev.correct)}, {"test_accuracy", accuracy(best->test.correct)},
                   {"test_ci95", {ci.lo, ci.hi}}};
  }
  results["selected"] = selected;
  if (const ScoredPoint* o = oracle_on_test(all)) {
    results["oracle"] = {{"label", "best SADI point chosen on the test split itself (optimistic; not a result)"},
                         {"top_k", o->point.top_k}, {"delta", o->point.delta},
                         {"test_accuracy", accuracy(o->test.correct)}};
  }
}

}  // namespace

Json encode_result(const EvalResult& r) {
  Json j = r.header;
  add_scores(j, r.points, r.has_dev, r.seed, r.metric, r.whole);
  j["command_line"] = r.command_line;
  return j;
}

}  // namespace sadi
