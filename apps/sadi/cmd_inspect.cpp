// sadi inspect MASK.h5: provenance, top elements with scores, per-layer counts.
#include <iomanip>
#include <iostream>

#include "commands.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/io/mask_file.hpp"

namespace sadi::app {
namespace {

struct Top {
  int64_t rank, layer, unit;
  float score, mean, std;
};

std::vector<Top> top_elements(const SiteScores& s, int64_t n) {
  std::vector<Top> out;
  const int64_t total = s.n_layers * s.units;
  for (int64_t i = 0; i < std::min(n, total); ++i) {
    const int64_t layer = s.ranking[2 * i], unit = s.ranking[2 * i + 1];
    const auto k = static_cast<size_t>(layer * s.units + unit);
    out.push_back({i + 1, layer, unit, s.ranking_score[i], s.mean_diff[k], s.std[k]});
  }
  return out;
}

std::vector<int64_t> per_layer(const SiteScores& s, const std::vector<Top>& top) {
  std::vector<int64_t> counts(static_cast<size_t>(s.n_layers), 0);
  for (const auto& t : top) ++counts[static_cast<size_t>(t.layer)];
  return counts;
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
    Site s = parse_site(r["site"].as<std::string>());
    const SiteScores* found = mask.find(s);
    if (!found) throw_input(str(r["mask"].as<std::string>(), ": no /", site_name(s), " group in this file"));
    sites.push_back(found);
  } else {
    for (const auto& s : mask.sites) sites.push_back(&s);
  }
  if (r.count("json")) {
    Json j{{"provenance", Json::object()}, {"sites", Json::object()}};
    for (const auto& [k, v] : mask.provenance.text) j["provenance"][k] = v;
    for (const auto& [k, v] : mask.provenance.integer) j["provenance"][k] = v;
    for (const auto* s : sites) {
      auto top = top_elements(*s, n);
      Json items = Json::array();
      for (const auto& t : top) {
        items.push_back({{"rank", t.rank}, {"layer", t.layer}, {"unit", t.unit}, {"score", t.score},
                         {"mean_diff", t.mean}, {"std", t.std}});
      }
      j["sites"][site_name(s->site)] = {{"n_layers", s->n_layers}, {"units", s->units}, {"group", s->group},
                                        {"count", s->count}, {"top_k", s->top_k}, {"top", items},
                                        {"per_layer_in_top", per_layer(*s, top)}};
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "provenance:\n";
  for (const auto& [k, v] : mask.provenance.text) {
    // Quote values whose whitespace would be invisible (the separator, empty lists).
    const bool quote = v.empty() || trim(v) != v || v.find('\n') != std::string::npos;
    std::cout << "  " << std::left << std::setw(18) << k << (quote ? Json(v).dump() : v) << "\n";
  }
  for (const auto& [k, v] : mask.provenance.integer) std::cout << "  " << std::left << std::setw(18) << k << v << "\n";
  for (const auto* s : sites) {
    const char* unit_name = s->site == Site::kHead ? "head" : "unit";
    std::cout << "\n/" << site_name(s->site) << ": " << s->n_layers << " layers x " << s->units << " " << unit_name
              << "s, " << s->count << " pairs" << (s->top_k ? str(", mask top-", s->top_k) : std::string()) << "\n";
    std::cout << "  rank  layer  " << std::setw(6) << unit_name << "       score   mean_diff         std\n";
    auto top = top_elements(*s, n);
    for (const auto& t : top) {
      std::cout << "  " << std::right << std::setw(4) << t.rank << "  " << std::setw(5) << t.layer << "  " << std::setw(6)
                << t.unit << std::scientific << std::setprecision(3) << "  " << std::setw(10) << t.score << "  "
                << std::setw(10) << t.mean << "  " << std::setw(10) << t.std << std::defaultfloat << "\n";
    }
    std::cout << "  per layer in the top " << top.size() << ": " << list_str(per_layer(*s, top)) << "\n";
  }
  return 0;
}

}  // namespace sadi::app
