#include "sadi/steer/steer.hpp"

#include <cmath>
#include <random>
#include <set>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {
namespace {

torch::Tensor from_vec(const std::vector<float>& v, int64_t rows, int64_t cols) {
  return torch::from_blob(const_cast<float*>(v.data()), {rows, cols}, torch::kFloat32).clone();
}

std::set<Site> steered_sites(const std::vector<const RowSteer*>& rows) {
  std::set<Site> sites;
  for (const auto* r : rows) {
    if (r) sites.insert(r->site);
  }
  return sites;
}

std::vector<int64_t> active_layers(const torch::Tensor& t) {  // t [L, U]
  std::vector<int64_t> out;
  auto any = t.ne(0).any(1);
  for (int64_t l = 0; l < t.size(0); ++l) {
    if (any[l].item<bool>()) out.push_back(l);
  }
  return out;
}

}  // namespace

Method parse_method(const std::string& s) {
  if (s == "sadi") return Method::kSadi;
  if (s == "fixed") return Method::kFixed;
  if (s == "random") return Method::kRandom;
  if (s == "caa") return Method::kCaa;
  throw_usage(str("--method: expected sadi, fixed, random or caa, found '", s, "'"));
}

Mode parse_mode(const std::string& s) {
  if (s == "live") return Mode::kLive;
  if (s == "clamp") return Mode::kClamp;
  throw_usage(str("--mode: expected live or clamp, found '", s, "'"));
}

StepPositions parse_steer_positions(const std::string& s) {
  if (s == "prompt-last") return StepPositions::kPromptLast;
  if (s == "prompt-all") return StepPositions::kPromptAll;
  if (s == "all") return StepPositions::kAll;
  throw_usage(str("--steer-positions: expected prompt-last, prompt-all or all, found '", s, "'"));
}

const char* method_name(Method m) {
  switch (m) {
    case Method::kSadi: return "sadi";
    case Method::kFixed: return "fixed";
    case Method::kRandom: return "random";
    case Method::kCaa: return "caa";
  }
  return "?";
}
const char* mode_name(Mode m) { return m == Mode::kLive ? "live" : "clamp"; }
const char* steer_positions_name(StepPositions p) {
  switch (p) {
    case StepPositions::kPromptLast: return "prompt-last";
    case StepPositions::kPromptAll: return "prompt-all";
    case StepPositions::kAll: return "all";
  }
  return "?";
}

RowSteer resolve_steer(const SteerConfig& cfg, const MaskFile& mask, const std::filesystem::path& mask_path,
                       const ModelInfo& info) {
  if (!std::isfinite(cfg.delta)) throw_usage(str("--delta: expected a finite number, found ", cfg.delta));
  if (cfg.mode == Mode::kClamp && cfg.positions != StepPositions::kPromptLast) {
    throw_usage("--mode clamp steers the last prompt token only (the reference code's procedure): "
                "use --steer-positions prompt-last");
  }
  RowSteer r;
  r.site = cfg.method == Method::kCaa ? Site::kResidual : cfg.site;
  const SiteScores* s = mask.find(r.site);
  if (!s) {
    throw_input(str(mask_path.string(), ": no /", site_name(r.site), " group (run sadi identify with --sites ",
                    site_name(r.site), ")"));
  }
  const SiteInfo& si = info.site(r.site);
  const int64_t total = s->n_layers * s->units;
  if (cfg.method == Method::kCaa) {
    auto delta_vec = from_vec(s->mean_diff, s->n_layers, s->units);  // [L, d]
    auto keep = torch::zeros({info.n_layers, 1});
    if (cfg.layers.empty()) keep.fill_(1.0);
    for (int64_t l : cfg.layers) {
      if (l < 0 || l >= info.n_layers) throw_usage(str("--layers: layer ", l, " out of range [0, ", info.n_layers, ")"));
      keep[l] = 1.0;
    }
    r.add = delta_vec * keep * cfg.delta;
    r.layers = cfg.delta == 0.0 ? std::vector<int64_t>{} : active_layers(keep.expand({info.n_layers, si.units}));
    return r;
  }
  if (cfg.top_k <= 0 || cfg.top_k > total) {
    throw_usage(str("--top-k ", cfg.top_k, ": the ", site_name(r.site), " site has ", total,
                    " elements; expected 1 to ", total));
  }
  if (cfg.method == Method::kRandom) {
    std::vector<int64_t> all(static_cast<size_t>(total));
    for (int64_t i = 0; i < total; ++i) all[static_cast<size_t>(i)] = i;
    std::mt19937_64 rng(cfg.seed);
    for (int64_t i = 0; i < cfg.top_k; ++i) {  // partial Fisher-Yates
      std::uniform_int_distribution<int64_t> pick(i, total - 1);
      std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(pick(rng))]);
    }
    r.elements.assign(all.begin(), all.begin() + cfg.top_k);
  } else {
    for (int64_t i = 0; i < cfg.top_k; ++i) r.elements.push_back(s->ranking[2 * i] * s->units + s->ranking[2 * i + 1]);
  }
  auto m = torch::zeros({s->n_layers, s->units});  // [L, units]
  auto ma = m.accessor<float, 2>();
  for (int64_t e : r.elements) ma[e / s->units][e % s->units] = 1.0f;
  auto mu = s->group > 1 ? m.repeat_interleave(s->group, 1) : m;  // [L, U]
  r.layers = active_layers(mu);
  if (cfg.method == Method::kFixed) {
    const auto& full = s->mean_diff_full.empty() ? s->mean_diff : s->mean_diff_full;
    r.add = from_vec(full, s->n_layers, si.units) * mu * cfg.delta;
  } else {
    r.scale = mu * cfg.delta;
  }
  if (cfg.delta == 0.0) r.layers.clear();  // nothing to apply: bit-identical to no steering
  return r;
}

Steering live_steering(const std::vector<const RowSteer*>& rows, const torch::Tensor& at, const ModelInfo& info) {
  Steering out;
  const auto b = static_cast<int64_t>(rows.size());
  std::map<Site, std::set<int64_t>> layers;
  for (const auto* r : rows) {
    if (r) layers[r->site].insert(r->layers.begin(), r->layers.end());
  }
  for (const auto& [site, ls] : layers) {
    if (ls.empty()) continue;
    const int64_t units = info.site(site).units;
    SiteEdit& edit = out.sites[site];
    edit.at = at.clone();
    for (int64_t i = 0; i < b; ++i) {
      if (!rows[static_cast<size_t>(i)] || rows[static_cast<size_t>(i)]->site != site) edit.at[i].fill_(false);
    }
    for (int64_t l : ls) {
      LayerEdit le;
      for (int64_t i = 0; i < b; ++i) {
        const RowSteer* r = rows[static_cast<size_t>(i)];
        if (!r || r->site != site) continue;
        if (r->scale.defined()) {
          if (!le.scale.defined()) le.scale = torch::zeros({b, units});
          le.scale[i] = r->scale[l];
        }
        if (r->add.defined()) {
          if (!le.add.defined()) le.add = torch::zeros({b, units});
          le.add[i] = r->add[l];
        }
      }
      edit.layers[l] = le;
    }
  }
  return out;
}

std::map<Site, torch::Tensor> capture_clean(Model& model, const PaddedBatch& batch, const torch::Tensor& col,
                                            const std::vector<const RowSteer*>& rows) {
  const int64_t b = batch.input_ids.size(0);
  ForwardInput in{batch.input_ids, batch.positions, batch.key_mask, 0, torch::empty({b, 0}, torch::kInt64), nullptr, {}};
  for (Site s : steered_sites(rows)) in.capture[s] = col;
  std::map<Site, torch::Tensor> out;
  const ForwardOutput res = model.forward(in, nullptr);
  for (const auto& [site, values] : res.captured) out[site] = values.select(1, 0);  // [B, L, U]
  return out;
}

Steering clamp_steering(const std::vector<const RowSteer*>& rows, const std::map<Site, torch::Tensor>& clean,
                        const torch::Tensor& at, const ModelInfo& info) {
  Steering out;
  const auto b = static_cast<int64_t>(rows.size());
  for (Site site : steered_sites(rows)) {
    const int64_t units = info.site(site).units;
    SiteEdit& edit = out.sites[site];
    edit.at = at.clone();
    auto it = clean.find(site);
    if (it == clean.end()) throw_runtime(str("clamp: no clean values captured for site '", site_name(site), "'"));
    auto c = it->second.to(torch::kCPU, torch::kFloat32);  // [B, L, U]
    auto set_mask = torch::zeros({b, units}, torch::kBool);
    for (int64_t i = 0; i < b; ++i) {
      const RowSteer* r = rows[static_cast<size_t>(i)];
      if (r && r->site == site) set_mask[i].fill_(true);
    }
    // Every layer is overwritten: downstream layers at that position keep their clean values
    // and cannot react to upstream edits (the reference code's behaviour).
    for (int64_t l = 0; l < info.n_layers; ++l) {
      auto value = c.select(1, l).clone();  // [B, U]
      for (int64_t i = 0; i < b; ++i) {
        const RowSteer* r = rows[static_cast<size_t>(i)];
        if (!r || r->site != site) continue;
        if (r->scale.defined()) value[i] = value[i] + value[i] * r->scale[l];
        if (r->add.defined()) value[i] = value[i] + r->add[l];
      }
      edit.layers[l] = LayerEdit{{}, {}, value, set_mask};
    }
  }
  return out;
}

}  // namespace sadi
