#include "sadi/eval/results.hpp"

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/eval/report.hpp"
#include "sadi/eval/significance.hpp"

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
    j["loglik"] = p.loglik;  // [item][choice] summed log-probability, for paired analyses
  }
  if (metric == Metric::kGenerateEm) j["predictions"] = p.predictions;
  return j;
}

Json pair(const Interval& i) { return Json::array({i.lo, i.hi}); }

// Each selected method's selection-aware interval and each baseline's comparison with SADI
// (significance.hpp), into `selected`.
void add_significance(Json& selected, const std::vector<ScoredPoint>& all, uint64_t seed) {
  const auto sig = significance(all, seed);
  if (!sig) return;
  for (const auto& [m, ci] : sig->selection_ci95) {
    if (selected.contains(method_name(m))) selected[method_name(m)]["test_ci95_selection_aware"] = pair(ci);
  }
  for (const Comparison& c : sig->vs_sadi) {
    if (!selected.contains(method_name(c.method))) continue;
    Json j{{"diff", c.diff}, {"diff_ci95", pair(c.diff_ci95)}, {"p", c.p}, {"test", c.test},
           {"diff_ci95_selection_aware", pair(c.selection_diff_ci95)}, {"n", c.n}, {"resamples", sig->resamples}};
    if (c.only_sadi >= 0) j["discordant"] = {{"sadi_only", c.only_sadi}, {"baseline_only", c.only_baseline}};
    selected[method_name(c.method)]["vs_sadi"] = j;
  }
}

// Adds "points", "selected" and (when SADI points exist) "oracle" to `results`. With
// select = false (one shard of a run) "selected" stays empty and there is no oracle.
void add_scores(Json& results, const std::vector<ScoredPoint>& all, bool has_dev, uint64_t seed, Metric metric,
                bool select) {
  Json pts = Json::array();
  for (const auto& s : all) {
    Json j{{"method", method_name(s.point.method)}, {"top_k", s.point.top_k}, {"delta", s.point.delta},
           {"test", split_json(s.test, seed, metric)}};
    if (s.point.method == Method::kRandom) j["seed"] = s.point.seed;
    if (s.point.layer >= 0) j["layer"] = s.point.layer;
    if (has_dev) j["dev"] = split_json(s.dev, seed, metric);
    pts.push_back(j);
  }
  results["points"] = pts;
  results["selected"] = Json::object();
  if (!select) return;
  Json selected = Json::object();
  for (Method m : all_methods()) {
    const ScoredPoint* best = has_dev && m != Method::kRandom ? select_on_dev(all, m) : nullptr;
    if (!best) continue;
    Interval ci = bootstrap_interval(best->test.correct, seed);
    selected[method_name(m)] = {{"top_k", best->point.top_k}, {"delta", best->point.delta},
                   {"dev_accuracy", accuracy(best->dev.correct)}, {"test_accuracy", accuracy(best->test.correct)},
                   {"test_ci95", {ci.lo, ci.hi}}};
    if (best->point.layer >= 0) selected[method_name(m)]["layer"] = best->point.layer;
  }
  if (const auto random = has_dev ? summarize_random(all) : std::nullopt) {
    Json per = Json::array();
    for (const ScoredPoint* p : random->per_seed) {
      per.push_back({{"seed", p->point.seed}, {"top_k", p->point.top_k}, {"delta", p->point.delta},
                     {"dev_accuracy", accuracy(p->dev.correct)}, {"test_accuracy", accuracy(p->test.correct)}});
    }
    Json r{{"seeds", random->per_seed.size()}, {"dev_accuracy", random->dev_mean},
           {"test_accuracy", random->test_mean}, {"test_sd", random->test_sd}, {"per_seed", per}};
    if (random->sadi_percentile >= 0) r["sadi_percentile"] = random->sadi_percentile;
    selected["random"] = r;
  }
  add_significance(selected, all, seed);
  results["selected"] = selected;
  if (const ScoredPoint* o = oracle_on_test(all)) {
    results["oracle"] = {{"label", "best SADI point chosen on the test split itself (optimistic; not a result)"},
                         {"top_k", o->point.top_k}, {"delta", o->point.delta},
                         {"test_accuracy", accuracy(o->test.correct)}};
  }
}

std::vector<uint8_t> flags(const JsonView& split, const std::string& key) {
  const Json& a = split.raw(key);
  if (!a.is_array()) split.fail(key, "a list of 0/1");
  std::vector<uint8_t> out;
  for (const auto& x : a) {
    if (!x.is_number_integer() || (x.get<int64_t>() != 0 && x.get<int64_t>() != 1)) split.fail(key, "a list of 0/1");
    out.push_back(static_cast<uint8_t>(x.get<int64_t>()));
  }
  return out;
}

PointScore decode_split(const JsonView& v, Metric metric) {
  PointScore p;
  p.correct = flags(v, "correct");
  if (metric == Metric::kChoice) {
    p.correct_norm = flags(v, "correct_length_normalised");
    const Json& a = v.raw("loglik");
    if (!a.is_array()) v.fail("loglik", "a list of per-item lists of numbers");
    for (const auto& row : a) {
      if (!row.is_array()) v.fail("loglik", "a list of per-item lists of numbers");
      std::vector<double> r;
      for (const auto& x : row) {
        if (!x.is_number()) v.fail("loglik", "a list of per-item lists of numbers");
        r.push_back(x.get<double>());
      }
      p.loglik.push_back(std::move(r));
    }
  }
  if (metric == Metric::kGenerateEm) {
    const Json& a = v.raw("predictions");
    if (!a.is_array()) v.fail("predictions", "a list of strings");
    for (const auto& x : a) {
      if (!x.is_string()) v.fail("predictions", "a list of strings");
      p.predictions.push_back(x.get<std::string>());
    }
  }
  p.seconds = v.has("seconds") ? v.number("seconds") : -1;
  return p;
}

}  // namespace

EvalResult decode_result(const Json& j, const std::string& origin) {
  const JsonView v(j, origin);
  EvalResult r;
  try {
    r.metric = parse_metric(v.string("metric"));
  } catch (const Error& e) {
    if (e.field() != "metric") throw;
    v.fail("metric", "exact-match, choice or generate-em");
  }
  r.seed = static_cast<uint64_t>(v.integer("seed"));
  r.has_dev = v.has("dev") && !j.at("dev").is_null();
  r.whole = !v.has("shard");
  r.command_line = v.has("command_line") ? v.string("command_line") : std::string();
  r.header = j;
  for (const char* k : {"points", "selected", "oracle", "command_line"}) r.header.erase(k);
  const Json& pts = v.raw("points");
  if (!pts.is_array()) v.fail("points", "a list of grid points");
  for (size_t i = 0; i < pts.size(); ++i) {
    const JsonView p(pts[i], origin, str("points[", i, "]"));
    ScoredPoint s;
    s.point = {parse_method(p.string("method"), "points[].method"), p.integer("top_k"), p.number("delta"),
               p.has("seed") ? static_cast<uint64_t>(p.integer("seed")) : 0, p.has("layer") ? p.integer("layer") : -1};
    s.test = decode_split(p.object("test"), r.metric);
    if (r.has_dev) s.dev = decode_split(p.object("dev"), r.metric);
    r.points.push_back(std::move(s));
  }
  return r;
}

Json encode_result(const EvalResult& r) {
  Json j = r.header;
  add_scores(j, r.points, r.has_dev, r.seed, r.metric, r.whole);
  j["command_line"] = r.command_line;
  return j;
}

Json run_identity(const Json& header, const char* key) {
  Json v = header.value(key, Json());
  if (v.is_object()) {
    for (const char* k : {"file", "dir", "n", "n_test"}) v.erase(k);
  }
  return v;
}

}  // namespace sadi
