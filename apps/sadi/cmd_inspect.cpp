// sadi inspect MASK.h5: provenance, top elements with scores, per-layer counts.
#include <cmath>
#include <iomanip>
#include <limits>
#include <iostream>

#include "commands.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/io/mask_file.hpp"
#include "sadi/steer/planner.hpp"

namespace sadi::app {
namespace {

struct Top {
  int64_t rank, layer, unit;
  float score, mean, std;
  float z = std::numeric_limits<float>::quiet_NaN();     // mean / standard error
  float freq = std::numeric_limits<float>::quiet_NaN();  // bootstrap: share of resamples with it in their top-K
  float probe = std::numeric_limits<float>::quiet_NaN(); // heads: ITI probe accuracy
};

std::vector<Top> top_elements(const SiteScores& s, int64_t n) {
  std::vector<Top> out;
  const int64_t total = s.n_layers * s.units;
  for (int64_t i = 0; i < std::min(n, total); ++i) {
    const int64_t layer = s.ranking[2 * i], unit = s.ranking[2 * i + 1];
    const auto k = static_cast<size_t>(layer * s.units + unit);
    Top t{i + 1, layer, unit, s.ranking_score[i], s.mean_diff[k], s.std[k]};
    if (!s.zscore.empty()) t.z = s.zscore[k];
    if (!s.stability.frequency.empty()) t.freq = s.stability.frequency[k];
    if (!s.iti.empty()) t.probe = s.iti.probe_accuracy[k];
    out.push_back(t);
  }
  return out;
}

std::vector<int64_t> per_layer(const SiteScores& s, const std::vector<Top>& top) {
  std::vector<int64_t> counts(static_cast<size_t>(s.n_layers), 0);
  for (const auto& t : top) ++counts[static_cast<size_t>(t.layer)];
  return counts;
}

Json optional(float v) { return std::isnan(v) ? Json() : Json(v); }

std::string cell(float v, int precision) {
  return std::isnan(v) ? std::string("-") : str(std::fixed, std::setprecision(precision), v);
}

// The bootstrap overlap curve, and whether the mask's own K is stable.
void print_stability(const SiteScores& s) {
  const Stability& b = s.stability;
  if (b.resamples == 0) return;
  std::cout << "  stability over " << b.resamples << " bootstrap resamples of the pairs (top-K overlap with all pairs):\n   ";
  for (size_t i = 0; i < b.k.size(); ++i) {
    std::cout << " K=" << b.k[i] << ": " << std::fixed << std::setprecision(2) << b.overlap_mean[i] << " +- "
              << b.overlap_sd[i] << std::defaultfloat << (i + 1 < b.k.size() ? "," : "\n");
  }
  for (const auto& w : stability_warnings(s, {s.top_k})) std::cout << "  warning: " << w << "\n";
}

Json stability_json(const Stability& b) {
  if (b.resamples == 0) return nullptr;
  return {{"resamples", b.resamples}, {"seed", b.seed}, {"k", b.k}, {"overlap_mean", b.overlap_mean},
          {"overlap_sd", b.overlap_sd}, {"frequency_k", b.frequency_k}};
}

}  // namespace

int cmd_inspect(const Args& args) {
  cxxopts::Options opts(args[0], "Show a mask file's provenance, top elements and per-layer counts.");
  opts.positional_help("MASK.h5");
  opts.add_options()
      ("mask", "mask file written by sadi identify", cxxopts::value<std::string>())
      ("site", "only this site", cxxopts::value<std::string>())
      ("top", "number of top elements shown (and counted per layer)", cxxopts::value<int64_t>()->default_value("10"))
      ("json", "print JSON instead of text");
  add_common_options(opts);
  opts.parse_positional({"mask"});
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  if (!r.count("mask")) throw_usage("sadi inspect: missing MASK.h5 (see sadi inspect --help)");
  const int64_t n = r["top"].as<int64_t>();
  if (n <= 0) throw_usage("--top: expected a positive integer");
  const auto mask = read_mask_file(r["mask"].as<std::string>());
  std::vector<const SiteScores*> sites;
  if (r.count("site")) {
    Site s = parse_site(r["site"].as<std::string>(), "--site");
    const SiteScores* found = mask.find(s);
    if (!found) throw_input(str(r["mask"].as<std::string>(), ": no /", site_name(s), " group in this file"));
    sites.push_back(found);
  } else {
    for (const auto& s : mask.sites) sites.push_back(&s);
  }
  if (r.count("json")) {
    Json j{{"provenance", Json::object()}, {"sites", Json::object()}};
    j["provenance"] = provenance_json(mask.provenance);
    for (const auto* s : sites) {
      auto top = top_elements(*s, n);
      Json items = Json::array();
      for (const auto& t : top) {
        items.push_back({{"rank", t.rank}, {"layer", t.layer}, {"unit", t.unit}, {"score", t.score},
                         {"mean_diff", t.mean}, {"std", t.std}, {"z", optional(t.z)},
                         {"bootstrap_frequency", optional(t.freq)}, {"iti_probe_accuracy", optional(t.probe)}});
      }
      j["sites"][site_name(s->site)] = {{"n_layers", s->n_layers}, {"units", s->units}, {"group", s->group},
                                        {"count", s->count}, {"top_k", s->top_k}, {"top", items},
                                        {"per_layer_in_top", per_layer(*s, top)},
                                        {"stability", stability_json(s->stability)}};
    }
    std::cout << dump_json(j, 2) << "\n";  // invalid UTF-8 (an old mask's separator) as U+FFFD: valid JSON
    return 0;
  }
  std::cout << "provenance:\n";
  const MaskAttributes attrs = mask_attributes(mask.provenance);
  for (const auto& [k, v] : attrs.text) {
    // Quote values whose whitespace would be invisible (the separator, empty lists).
    const bool quote = v.empty() || trim(v) != v || v.find('\n') != std::string::npos;
    std::cout << "  " << std::left << std::setw(18) << k << (quote ? dump_json(Json(v), -1) : v) << "\n";
  }
  for (const auto& [k, v] : attrs.integer) std::cout << "  " << std::left << std::setw(18) << k << v << "\n";
  for (const auto* s : sites) {
    const char* unit_name = s->site == Site::kHead ? "head" : "unit";
    std::cout << "\n/" << site_name(s->site) << ": " << s->n_layers << " layers x " << s->units << " " << unit_name
              << "s, " << s->count << " pairs" << (s->top_k ? str(", mask top-", s->top_k) : std::string()) << "\n";
    std::cout << "  rank  layer  " << std::setw(6) << unit_name
              << "       score   mean_diff         std       z  boot_freq  iti_probe\n";
    auto top = top_elements(*s, n);
    for (const auto& t : top) {
      std::cout << "  " << std::right << std::setw(4) << t.rank << "  " << std::setw(5) << t.layer << "  " << std::setw(6)
                << t.unit << std::scientific << std::setprecision(3) << "  " << std::setw(10) << t.score << "  "
                << std::setw(10) << t.mean << "  " << std::setw(10) << t.std << std::defaultfloat << "  " << std::setw(6)
                << cell(t.z, 1) << "  " << std::setw(9) << cell(t.freq, 2) << "  " << std::setw(9) << cell(t.probe, 2)
                << "\n";
    }
    std::cout << "  per layer in the top " << top.size() << ": " << list_str(per_layer(*s, top)) << "\n";
    print_stability(*s);
  }
  return 0;
}

}  // namespace sadi::app
