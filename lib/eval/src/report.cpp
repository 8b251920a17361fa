#include "sadi/eval/report.hpp"

#include <iomanip>

#include "sadi/core/strings.hpp"

namespace sadi {
namespace {

const char* kMethods[] = {"none", "sadi", "fixed", "random", "caa"};

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

std::string cell(const ScoredPoint& s, bool k) {
  if (s.point.method == "none") return "-";
  if (k) return s.point.method == "caa" ? "-" : std::to_string(s.point.top_k);
  return str(s.point.delta);
}

}  // namespace

const ScoredPoint* select_on_dev(const std::vector<ScoredPoint>& all, const std::string& method) {
  const ScoredPoint* best = nullptr;
  for (const auto& s : all) {
    if (s.point.method != method || s.dev.correct.empty()) continue;
    if (!best || accuracy(s.dev.correct) > accuracy(best->dev.correct)) best = &s;
  }
  return best;
}

const ScoredPoint* oracle_on_test(const std::vector<ScoredPoint>& all) {
  const ScoredPoint* best = nullptr;
  for (const auto& s : all) {
    if (s.point.method == "sadi" && (!best || accuracy(s.test.correct) > accuracy(best->test.correct))) best = &s;
  }
  return best;
}

void add_scores(Json& results, const std::vector<ScoredPoint>& all, bool has_dev, uint64_t seed, Metric metric,
                bool select) {
  Json pts = Json::array();
  for (const auto& s : all) {
    Json j{{"method", s.point.method}, {"top_k", s.point.top_k}, {"delta", s.point.delta},
           {"test", split_json(s.test, seed, metric)}};
    if (has_dev) j["dev"] = split_json(s.dev, seed, metric);
    pts.push_back(j);
  }
  results["points"] = pts;
  results["selected"] = Json::object();
  if (!select) return;
  Json selected = Json::object();
  for (const char* m : kMethods) {
    const ScoredPoint* best = has_dev ? select_on_dev(all, m) : nullptr;
    if (!best) continue;
    Interval ci = bootstrap_interval(best->test.correct, seed);
    selected[m] = {{"top_k", best->point.top_k}, {"delta", best->point.delta},
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

void print_table(std::ostream& os, const std::vector<ScoredPoint>& all, bool has_dev, uint64_t seed, bool select) {
  os << std::left << std::setw(8) << "method" << std::setw(6) << "K" << std::setw(8) << "delta"
     << (has_dev ? "dev     " : "") << "test    95% CI\n";
  auto acc = [](const PointScore& p) { return str(std::fixed, std::setprecision(3), accuracy(p.correct)); };
  auto interval = [&](const PointScore& p) {
    Interval ci = bootstrap_interval(p.correct, seed);
    return str(std::fixed, std::setprecision(3), "[", ci.lo, ", ", ci.hi, "]");
  };
  for (const auto& s : all) {
    os << std::left << std::setw(8) << s.point.method << std::setw(6) << cell(s, true) << std::setw(8) << cell(s, false);
    if (has_dev) os << std::setw(8) << acc(s.dev);
    os << acc(s.test) << "   " << interval(s.test) << "\n";
  }
  if (!select) {
    os << "(one shard: no selection; combine the shards with sadi merge)\n";
    return;
  }
  for (const char* m : kMethods) {
    const ScoredPoint* best = has_dev ? select_on_dev(all, m) : nullptr;
    if (!best) continue;
    os << "selected on dev: " << m << " K=" << best->point.top_k << " delta=" << best->point.delta << " -> test "
       << acc(best->test) << " " << interval(best->test) << "\n";
  }
  if (const ScoredPoint* o = oracle_on_test(all)) {
    os << "oracle (chosen on test, optimistic): sadi K=" << o->point.top_k << " delta=" << o->point.delta << " -> "
       << acc(o->test) << "\n";
  }
}

}  // namespace sadi
