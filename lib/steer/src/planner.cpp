#include "sadi/steer/planner.hpp"

#include <cmath>
#include <limits>
#include <random>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/tensor_types.hpp"

namespace sadi {
namespace {

torch::Tensor from_vec(const std::vector<float>& v, int64_t rows, int64_t cols) {  // -> [rows, cols] float32
  return torch::from_blob(const_cast<float*>(v.data()), {rows, cols}, torch::kFloat32).clone();
}

std::vector<int64_t> active_layers(const torch::Tensor& t) {  // t [L, U]: layers with a nonzero entry
  std::vector<int64_t> out;
  auto any = t.ne(0).any(1);
  for (int64_t l = 0; l < t.size(0); ++l) {
    if (any[l].item<bool>()) out.push_back(l);
  }
  return out;
}

double dtype_max(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat16: return 65504.0;
    case torch::kFloat64: return std::numeric_limits<double>::max();
    default: return std::numeric_limits<float>::max();  // float32, bfloat16
  }
}

void check_spec(const InterventionSpec& spec, const PlanTarget& target) {
  if (!std::isfinite(spec.delta)) throw_field(ErrorKind::kUsage, "delta", str(": expected a finite number, found ", spec.delta));
  if (std::abs(spec.delta) > dtype_max(target.dtype)) {
    throw_field(ErrorKind::kUsage, "delta", str(": expected a finite number in ", dtype_name(target.dtype), ", found ", spec.delta));
  }
  if (spec.mode == Mode::kClamp && spec.positions != Positions::kPromptLast) {
    throw_field(ErrorKind::kUsage, "positions",
                str(": clamp mode steers the last prompt token only (the reference code's procedure); expected ",
                    "prompt-last, found ", positions_name(spec.positions)));
  }
}

const SiteScores& site_scores(const MaskSource& src, Site site) {
  const SiteScores* s = src.mask ? src.mask->find(site) : nullptr;
  if (!src.mask) throw_field(ErrorKind::kUsage, "mask", ": steering needs a mask file (from sadi identify)");
  if (!s) {
    throw_input(str(src.origin, ": no /", site_name(site), " group (run sadi identify with --sites ", site_name(site), ")"));
  }
  return *s;
}

// caa: delta * Delta_residual at the chosen layers (all when none are given).
void plan_caa(const InterventionSpec& spec, const SiteScores& s, const ModelInfo& info, Intervention& iv) {
  auto keep = torch::zeros({info.n_layers, 1});  // [L, 1]
  if (spec.caa_layers.empty()) keep.fill_(1.0);
  for (int64_t l : spec.caa_layers) {
    if (l < 0 || l >= info.n_layers) {
      throw_field(ErrorKind::kUsage, "caa.layers", str(": layer ", l, " out of range [0, ", info.n_layers, ")"));
    }
    keep[l] = 1.0;
  }
  iv.add = from_vec(s.mean_diff, s.n_layers, s.units) * keep * spec.delta;  // [L, d]
  if (spec.delta != 0.0) iv.layers = active_layers(keep.expand({info.n_layers, s.units}));
}

// The K chosen elements (layer * units + unit): the top of the ranking, or K seeded random ones.
std::vector<int64_t> choose_elements(const InterventionSpec& spec, const SiteScores& s) {
  const int64_t total = s.n_layers * s.units;
  if (spec.top_k <= 0 || spec.top_k > total) {
    throw_field(ErrorKind::kUsage, "top_k", str(" ", spec.top_k, ": the ", site_name(s.site), " site has ", total,
                                                " elements; expected 1 to ", total));
  }
  std::vector<int64_t> out;
  if (spec.method == Method::kRandom) {
    std::vector<int64_t> all(static_cast<size_t>(total));
    for (int64_t i = 0; i < total; ++i) all[static_cast<size_t>(i)] = i;
    std::mt19937_64 rng(spec.seed);
    for (int64_t i = 0; i < spec.top_k; ++i) {  // partial Fisher-Yates
      std::uniform_int_distribution<int64_t> pick(i, total - 1);
      std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(pick(rng))]);
    }
    out.assign(all.begin(), all.begin() + spec.top_k);
  } else {
    for (int64_t i = 0; i < spec.top_k; ++i) out.push_back(s.ranking[2 * i] * s.units + s.ranking[2 * i + 1]);
  }
  return out;
}

// sadi, random: scale = delta * M; fixed: add = delta * (Delta ⊙ M). M spans each element's group.
void plan_masked(const InterventionSpec& spec, const SiteScores& s, const SiteInfo& si, Intervention& iv) {
  iv.elements = choose_elements(spec, s);
  auto m = torch::zeros({s.n_layers, s.units});  // [L, score units]
  auto ma = m.accessor<float, 2>();
  for (int64_t e : iv.elements) ma[e / s.units][e % s.units] = 1.0f;
  auto mu = s.group > 1 ? m.repeat_interleave(s.group, 1) : m;  // [L, U]
  iv.layers = active_layers(mu);
  if (spec.method == Method::kFixed) {
    const auto& full = s.mean_diff_full.empty() ? s.mean_diff : s.mean_diff_full;
    iv.add = from_vec(full, s.n_layers, si.units) * mu * spec.delta;
  } else {
    iv.scale = mu * spec.delta;
  }
  if (spec.delta == 0.0) iv.layers.clear();  // nothing to apply: bit-identical to no steering
}

}  // namespace

Intervention plan_intervention(const InterventionSpec& spec, const MaskSource& mask, const PlanTarget& target) {
  if (!target.info) throw_runtime("plan_intervention: no model info");
  const ModelInfo& info = *target.info;
  Intervention iv;
  iv.mode = spec.mode;
  iv.positions = spec.positions;
  iv.site = spec.method == Method::kCaa ? Site::kResidual : spec.site;
  iv.label = {spec.method, spec.method == Method::kCaa || spec.method == Method::kNone ? 0 : spec.top_k,
              spec.method == Method::kNone ? 0.0 : spec.delta, spec.method == Method::kRandom ? spec.seed : 0};
  if (spec.method == Method::kNone) return iv;
  check_spec(spec, target);
  const SiteScores& s = site_scores(mask, iv.site);
  if (spec.method == Method::kCaa) {
    plan_caa(spec, s, info, iv);
  } else {
    plan_masked(spec, s, info.site(iv.site), iv);
  }
  // The edit is applied in the model's dtype on its device (the module converts nothing).
  if (iv.scale.defined()) iv.scale = iv.scale.to(target.device, target.dtype);
  if (iv.add.defined()) iv.add = iv.add.to(target.device, target.dtype);
  return iv;
}

std::vector<Intervention> plan_grid(const GridSpec& grid, const MaskSource& mask, const PlanTarget& target) {
  std::vector<Intervention> out;
  InterventionSpec none = grid.common;
  none.method = Method::kNone;
  out.push_back(plan_intervention(none, mask, target));
  for (Method m : grid.methods) {
    if (m == Method::kNone) continue;
    for (int64_t k : (m == Method::kCaa ? std::vector<int64_t>{0} : grid.top_k)) {
      for (double d : grid.delta) {
        InterventionSpec spec = grid.common;
        spec.method = m;
        spec.top_k = k;
        spec.delta = d;
        out.push_back(plan_intervention(spec, mask, target));
      }
    }
  }
  return out;
}

}  // namespace sadi
