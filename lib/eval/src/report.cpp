#include "sadi/eval/report.hpp"

#include <iomanip>

#include "sadi/core/strings.hpp"

namespace sadi {
namespace {

std::string cell(const ScoredPoint& s, bool k) {
  if (s.point.method == Method::kNone) return "-";
  if (k) return s.point.method == Method::kCaa ? "-" : std::to_string(s.point.top_k);
  return str(s.point.delta);
}

}  // namespace

const ScoredPoint* select_on_dev(const std::vector<ScoredPoint>& all, Method method) {
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
    if (s.point.method == Method::kSadi && (!best || accuracy(s.test.correct) > accuracy(best->test.correct))) best = &s;
  }
  return best;
}

void print_table(std::ostream& os, const EvalResult& r) {
  const auto& all = r.points;
  const bool has_dev = r.has_dev, select = r.whole;
  const uint64_t seed = r.seed;
  os << std::left << std::setw(8) << "method" << std::setw(6) << "K" << std::setw(8) << "delta"
     << (has_dev ? "dev     " : "") << "test    95% CI\n";
  auto acc = [](const PointScore& p) { return str(std::fixed, std::setprecision(3), accuracy(p.correct)); };
  auto interval = [&](const PointScore& p) {
    Interval ci = bootstrap_interval(p.correct, seed);
    return str(std::fixed, std::setprecision(3), "[", ci.lo, ", ", ci.hi, "]");
  };
  for (const auto& s : all) {
    os << std::left << std::setw(8) << method_name(s.point.method) << std::setw(6) << cell(s, true) << std::setw(8) << cell(s, false);
    if (has_dev) os << std::setw(8) << acc(s.dev);
    os << acc(s.test) << "   " << interval(s.test) << "\n";
  }
  if (!select) {
    os << "(one shard: no selection; combine the shards with sadi merge)\n";
    return;
  }
  for (Method m : all_methods()) {
    const ScoredPoint* best = has_dev ? select_on_dev(all, m) : nullptr;
    if (!best) continue;
    os << "selected on dev: " << method_name(m) << " K=" << best->point.top_k << " delta=" << best->point.delta << " -> test "
       << acc(best->test) << " " << interval(best->test) << "\n";
  }
  if (const ScoredPoint* o = oracle_on_test(all)) {
    os << "oracle (chosen on test, optimistic): sadi K=" << o->point.top_k << " delta=" << o->point.delta << " -> "
       << acc(o->test) << "\n";
  }
}

}  // namespace sadi
