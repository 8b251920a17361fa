#include "sadi/eval/report.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>

#include "sadi/core/strings.hpp"
#include "sadi/eval/significance.hpp"

namespace sadi {
namespace {

std::string cell(const ScoredPoint& s, bool k) {
  if (s.point.method == Method::kNone) return "-";
  if (k) return s.point.method == Method::kCaa ? str("L", s.point.layer) : std::to_string(s.point.top_k);
  return str(s.point.delta);
}

std::string acc3(double v) { return str(std::fixed, std::setprecision(3), v); }
std::string signed3(double v) { return str(std::fixed, std::setprecision(3), std::showpos, v); }
std::string range3(const Interval& i) { return str("[", signed3(i.lo), ", ", signed3(i.hi), "]"); }

// SADI's selected point against each baseline's on the same test items (significance.hpp).
void print_significance(std::ostream& os, const std::vector<ScoredPoint>& all, uint64_t seed) {
  const auto sig = significance(all, seed);
  if (!sig || sig->vs_sadi.empty()) return;
  os << "SADI vs each baseline, both at their dev-selected points, on the same test items (diff = SADI - baseline):\n";
  os << std::left << std::setw(11) << "baseline" << std::setw(9) << "diff" << std::setw(20) << "95% CI paired"
     << std::setw(20) << "95% CI sel.-aware" << "p\n";
  for (const Comparison& c : sig->vs_sadi) {
    const std::string how = c.only_sadi >= 0 ? str("McNemar exact, ", c.only_sadi, " vs ", c.only_baseline, " discordant")
                                             : std::string("sign-flip permutation over the seeds' mean");
    os << std::left << std::setw(11) << method_name(c.method) << std::setw(9) << signed3(c.diff) << std::setw(20)
       << range3(c.diff_ci95) << std::setw(20) << range3(c.selection_diff_ci95)
       << str(std::setprecision(3), c.p) << " (" << how << ")\n";
  }
  os << "selection-aware 95% CI of each selected accuracy (dev and test resampled, selection repeated, "
     << sig->resamples << " resamples):";
  for (const auto& [m, ci] : sig->selection_ci95) os << " " << method_name(m) << " [" << acc3(ci.lo) << ", " << acc3(ci.hi) << "]";
  os << "\n";
}

}  // namespace

std::optional<RandomSummary> summarize_random(const std::vector<ScoredPoint>& all) {
  std::vector<uint64_t> seeds;
  for (const auto& s : all) {
    if (s.point.method == Method::kRandom && !s.dev.correct.empty() &&
        std::find(seeds.begin(), seeds.end(), s.point.seed) == seeds.end()) {
      seeds.push_back(s.point.seed);
    }
  }
  if (seeds.empty()) return std::nullopt;
  RandomSummary r;
  std::vector<double> test;
  for (uint64_t seed : seeds) {
    r.per_seed.push_back(select_on_dev(all, Method::kRandom, seed));
    test.push_back(accuracy(r.per_seed.back()->test.correct));
    r.dev_mean += accuracy(r.per_seed.back()->dev.correct) / static_cast<double>(seeds.size());
  }
  for (double t : test) r.test_mean += t / static_cast<double>(test.size());
  double ss = 0;
  for (double t : test) ss += (t - r.test_mean) * (t - r.test_mean);
  r.test_sd = test.size() > 1 ? std::sqrt(ss / static_cast<double>(test.size() - 1)) : 0.0;
  if (const ScoredPoint* sadi = select_on_dev(all, Method::kSadi)) {
    const double a = accuracy(sadi->test.correct);
    double below = 0;
    for (double t : test) below += t < a ? 1.0 : (t == a ? 0.5 : 0.0);
    r.sadi_percentile = 100.0 * below / static_cast<double>(test.size());
  }
  return r;
}

const ScoredPoint* select_on_dev(const std::vector<ScoredPoint>& all, Method method, std::optional<uint64_t> seed) {
  const ScoredPoint* best = nullptr;
  for (const auto& s : all) {
    if (s.point.method != method || s.dev.correct.empty() || (seed && s.point.seed != *seed)) continue;
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
  os << std::left << std::setw(10) << "method" << std::setw(6) << "K" << std::setw(8) << "delta"
     << (has_dev ? "dev     " : "") << "test    95% CI\n";
  auto acc = [](const PointScore& p) { return str(std::fixed, std::setprecision(3), accuracy(p.correct)); };
  auto interval = [&](const PointScore& p) {
    Interval ci = bootstrap_interval(p.correct, seed);
    return str(std::fixed, std::setprecision(3), "[", ci.lo, ", ", ci.hi, "]");
  };
  const auto random = has_dev && select ? summarize_random(all) : std::nullopt;
  for (const auto& s : all) {
    if (random && random->per_seed.size() > 1 && s.point.method == Method::kRandom) continue;  // summarised below
    os << std::left << std::setw(10) << method_name(s.point.method) << std::setw(6) << cell(s, true) << std::setw(8) << cell(s, false);
    if (has_dev) os << std::setw(8) << acc(s.dev);
    os << acc(s.test) << "   " << interval(s.test) << "\n";
  }
  if (!select) {
    os << "(one shard: no selection; combine the shards with sadi merge)\n";
    return;
  }
  for (Method m : all_methods()) {
    const ScoredPoint* best = has_dev && m != Method::kRandom ? select_on_dev(all, m) : nullptr;
    if (!best) continue;
    os << "selected on dev: " << method_name(m) << " K=" << best->point.top_k << " delta=" << best->point.delta
       << (best->point.layer >= 0 ? str(" layer=", best->point.layer) : std::string()) << " -> test " << acc(best->test)
       << " " << interval(best->test) << "\n";
  }
  if (random) {
    os << "random over " << random->per_seed.size() << " seeds (each selected on dev): test " << acc3(random->test_mean)
       << " +- " << acc3(random->test_sd) << " (sd)";
    if (random->sadi_percentile >= 0) os << "; SADI's selected point is at percentile " << std::lround(random->sadi_percentile);
    os << "\n";
  }
  print_significance(os, all, seed);
  if (const ScoredPoint* o = oracle_on_test(all)) {
    os << "oracle (chosen on test, optimistic): sadi K=" << o->point.top_k << " delta=" << o->point.delta << " -> "
       << acc(o->test) << "\n";
  }
}

}  // namespace sadi
