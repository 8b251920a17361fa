#include "sadi/steer/planner.hpp"

#include <algorithm>
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

void check_spec(const InterventionSpec& spec, const PlanTarget& target, Positions positions) {
  if (!std::isfinite(spec.delta)) throw_field(ErrorKind::kUsage, "delta", str(": expected a finite number, found ", spec.delta));
  if (std::abs(spec.delta) > dtype_max(target.dtype)) {
    throw_field(ErrorKind::kUsage, "delta", str(": expected a finite number in ", dtype_name(target.dtype), ", found ", spec.delta));
  }
  if (spec.mode == Mode::kClamp && positions != Positions::kPromptLast) {
    throw_field(ErrorKind::kUsage, "positions",
                str(": clamp mode steers the last prompt token only (the reference code's procedure); expected ",
                    "prompt-last, found ", positions_name(positions)));
  }
}

// The edit in the model's dtype: a finite delta times the mask's values can still overflow it.
void check_edit_finite(const Intervention& iv, double delta, torch::ScalarType dtype) {
  for (const torch::Tensor* t : {&iv.scale, &iv.add}) {
    if (!t->defined() || torch::isfinite(*t).all().item<bool>()) continue;
    throw_field(ErrorKind::kUsage, "delta",
                str(": ", delta, " makes an edit that overflows ", dtype_name(dtype), " (expected an edit finite in the "
                    "model's dtype); use a smaller value"));
  }
}

const SiteScores& site_scores(const MaskSource& src, Site site) {
  const SiteScores* s = src.mask ? src.mask->find(site) : nullptr;
  if (!src.mask) throw_field(ErrorKind::kUsage, "mask", ": steering needs a mask file (from sadi identify)");
  if (!s) {
    throw_input(str(src.origin, ": no /", site_name(site), " group (identify did not run the ", site_name(site), " site)"));
  }
  return *s;
}

// CAA's vector and ITI's directions are differences at the answer's last token (their authors'
// read position); a mask read at the prompt's last token, where a pair's two sequences are the
// same, gives ~0 vectors: refused, naming the file and the attribute. Masks without the attribute
// (written before it was recorded) pass.
void check_read_position(const MaskSource& src, Method m) {
  const auto& pos = src.mask->provenance.position;
  if (!pos || *pos == "answer-last") return;
  throw_input(str(src.origin, ": attribute 'position' is '", *pos, "'; ", method_name(m), " needs a mask read at ",
                  "'answer-last' (its vectors are differences between the answers; at the prompt's last token a ",
                  "pair's two sequences are the same): run sadi identify with --position answer-last"));
}

// caa: m * v_l at the chosen layers (the middle layer when none are given).
void plan_caa(const InterventionSpec& spec, const SiteScores& s, const ModelInfo& info, Intervention& iv) {
  auto keep = torch::zeros({info.n_layers, 1});  // [L, 1]
  const std::vector<int64_t> layers = spec.caa_layers.empty() ? std::vector<int64_t>{info.n_layers / 2} : spec.caa_layers;
  if (layers.size() == 1) iv.label.layer = layers[0];
  for (int64_t l : layers) {
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
  if (spec.method == Method::kIti) {
    if (s.iti.empty()) {
      throw_field(ErrorKind::kUsage, "mask", ": the mask file has no ITI scores (identify ran without ITI's probes, or not on the head site)");
    }
    for (int64_t i = 0; i < spec.top_k; ++i) out.push_back(s.iti.ranking[2 * i] * s.units + s.iti.ranking[2 * i + 1]);
  } else if (spec.method == Method::kRandom) {
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

// The calibration activations of `site`, or an error naming what is missing.
const torch::Tensor& calibration_for(const MaskSource& src, Site site, Method m) {
  if (!src.calibration || src.calibration->site != site || !src.calibration->acts.defined()) {
    throw_field(ErrorKind::kUsage, "calibration",
                str(": method ", method_name(m), " takes SADI's mean edit over calibration inputs (eval: a dev split; ",
                    "generate: a calibration file), and none were given for the ", site_name(site), " site"));
  }
  return src.calibration->acts;  // [n, L, U]
}

// The additive edit of the fixed controls, [L, U] float32, for mask mu [L, U]:
// fixed: mean_i delta*(A_i ⊙ M); fixed-dir: Delta ⊙ M scaled to mean_i |delta*(A_i ⊙ M)|;
// fixed-raw: delta*(Delta ⊙ M).
torch::Tensor fixed_edit(const InterventionSpec& spec, const SiteScores& s, const SiteInfo& si, const torch::Tensor& mu,
                         const MaskSource& src) {
  const auto& full = s.mean_diff_full.empty() ? s.mean_diff : s.mean_diff_full;
  auto dir = from_vec(full, s.n_layers, si.units) * mu;  // [L, U]
  if (spec.method == Method::kFixedRaw) return dir * spec.delta;
  auto acts = calibration_for(src, s.site, spec.method).to(torch::kFloat64);  // [n, L, U]
  auto masked = acts * mu.to(torch::kFloat64).unsqueeze(0);
  if (spec.method == Method::kFixed) return (masked.mean(0) * spec.delta).to(torch::kFloat32);
  const double target = std::abs(spec.delta) * masked.flatten(1).norm(2, 1).mean().item<double>();
  const double n = dir.to(torch::kFloat64).norm().item<double>();
  if (n == 0.0) return torch::zeros_like(dir);
  return (dir.to(torch::kFloat64) * (target / n) * (spec.delta < 0 ? -1.0 : 1.0)).to(torch::kFloat32);
}

// sadi, random: scale = delta * M; fixed*: add (fixed_edit); iti: add = alpha * sigma_h * theta_h
// on the chosen heads. M spans each element's group.
void plan_masked(const InterventionSpec& spec, const SiteScores& s, const SiteInfo& si, const MaskSource& src,
                 Intervention& iv) {
  iv.elements = choose_elements(spec, s);
  auto m = torch::zeros({s.n_layers, s.units});  // [L, score units]
  auto ma = m.accessor<float, 2>();
  for (int64_t e : iv.elements) ma[e / s.units][e % s.units] = 1.0f;
  auto mu = s.group > 1 ? m.repeat_interleave(s.group, 1) : m;  // [L, U]
  iv.layers = active_layers(mu);
  switch (spec.method) {
    case Method::kFixed:
    case Method::kFixedDir:
    case Method::kFixedRaw: iv.add = fixed_edit(spec, s, si, mu, src); break;
    case Method::kIti: {
      auto sigma = from_vec(s.iti.sigma, s.n_layers, s.units).repeat_interleave(s.group, 1);  // [L, U]
      iv.add = from_vec(s.iti.direction, s.n_layers, si.units) * sigma * mu * spec.delta;
      break;
    }
    default: iv.scale = mu * spec.delta;
  }
  if (spec.delta == 0.0) iv.layers.clear();  // nothing to apply: bit-identical to no steering
}

}  // namespace

Intervention plan_intervention(const InterventionSpec& spec, const MaskSource& mask, const PlanTarget& target) {
  if (!target.info) throw_runtime("plan_intervention: no model info");
  const ModelInfo& info = *target.info;
  Intervention iv;
  const bool shift = spec.method == Method::kCaa || spec.method == Method::kIti;  // their authors' live addition
  iv.mode = shift ? Mode::kLive : spec.mode;
  iv.positions = shift ? spec.shift_positions : spec.positions;
  iv.site = spec.method == Method::kCaa ? Site::kResidual : spec.method == Method::kIti ? Site::kHead : spec.site;
  iv.label = {spec.method, spec.method == Method::kCaa || spec.method == Method::kNone ? 0 : spec.top_k,
              spec.method == Method::kNone ? 0.0 : spec.delta, spec.method == Method::kRandom ? spec.seed : 0, -1};
  if (spec.method == Method::kNone) return iv;
  InterventionSpec checked = spec;
  checked.mode = iv.mode;
  check_spec(checked, target, iv.positions);
  const SiteScores& s = site_scores(mask, iv.site);
  if (shift) check_read_position(mask, spec.method);
  if (spec.method == Method::kCaa) {
    plan_caa(spec, s, info, iv);
  } else {
    plan_masked(spec, s, info.site(iv.site), mask, iv);
  }
  // The edit is applied in the model's dtype on its device (the module converts nothing).
  if (iv.scale.defined()) iv.scale = iv.scale.to(target.device, target.dtype);
  if (iv.add.defined()) iv.add = iv.add.to(target.device, target.dtype);
  check_edit_finite(iv, spec.delta, target.dtype);
  return iv;
}

std::vector<std::string> stability_warnings(const SiteScores& site, const std::vector<int64_t>& top_k) {
  std::vector<std::string> out;
  const Stability& b = site.stability;
  for (int64_t k : top_k) {
    for (size_t i = 0; i < b.k.size(); ++i) {
      if (b.k[i] != k || b.overlap_mean[i] >= 0.5f) continue;
      out.push_back(str("the ", site_name(site.site), " site's top ", k, " is unstable: a bootstrap resample of the pairs ",
                        "keeps ", std::lround(100.0 * b.overlap_mean[i]), "% of it on average (", b.resamples,
                        " resamples)"));
    }
  }
  return out;
}

bool needs_calibration(const std::vector<Method>& methods) {
  return std::any_of(methods.begin(), methods.end(),
                     [](Method m) { return m == Method::kFixed || m == Method::kFixedDir; });
}

std::vector<int64_t> iti_default_top_k(int64_t heads) {
  std::vector<int64_t> out;
  for (int64_t k : {1, 2, 4, 8, 16, 32}) {
    if (k < heads) out.push_back(k);
  }
  out.push_back(std::min<int64_t>(heads, 48));
  return out;
}

std::vector<Intervention> plan_grid(const GridSpec& grid, const MaskSource& mask, const PlanTarget& target) {
  std::vector<Intervention> out;
  out.push_back(plan_intervention(spec_of(Method::kNone), mask, target));
  auto add = [&](Method m, int64_t k, double d, uint64_t seed, std::vector<int64_t> layers) {
    InterventionSpec spec = grid.common;
    spec.method = m;
    spec.top_k = k;
    spec.delta = d;
    spec.seed = seed;
    spec.caa_layers = std::move(layers);
    try {
      out.push_back(plan_intervention(spec, mask, target));
    } catch (const Error& e) {  // name the grid's own list: caa's multipliers, iti's K and alpha
      const bool iti = m == Method::kIti, caa = m == Method::kCaa;
      if (e.field() == "delta" && (iti || caa)) throw Error(e.kind(), iti ? "iti_alpha" : "caa_multipliers", e.rest());
      if (e.field() == "top_k" && iti && !grid.iti_top_k.empty()) throw Error(e.kind(), "iti_top_k", e.rest());
      throw;
    }
  };
  for (Method m : grid.methods) {
    if (m == Method::kCaa) {
      std::vector<int64_t> layers = grid.common.caa_layers;
      if (layers.empty()) {
        for (int64_t l = 0; l < target.info->n_layers; ++l) layers.push_back(l);
      }
      for (int64_t l : layers) {
        for (double d : grid.caa_multipliers) add(m, 0, d, 0, {l});
      }
    } else if (m == Method::kIti) {
      const ModelInfo& info = *target.info;
      for (int64_t k : grid.iti_top_k.empty() ? iti_default_top_k(info.n_layers * info.n_heads) : grid.iti_top_k) {
        for (double d : grid.iti_alpha) add(m, k, d, 0, {});
      }
    } else if (m == Method::kRandom) {
      if (grid.random_seeds <= 0) throw_field(ErrorKind::kUsage, "random_seeds", ": expected a positive number of seeds");
      for (int64_t i = 0; i < grid.random_seeds; ++i) {
        for (int64_t k : grid.top_k) {
          for (double d : grid.delta) add(m, k, d, grid.common.seed + static_cast<uint64_t>(i), {});
        }
      }
    } else if (m != Method::kNone) {
      for (int64_t k : grid.top_k) {
        for (double d : grid.delta) add(m, k, d, 0, {});
      }
    }
  }
  return out;
}

}  // namespace sadi
