#pragma once
// The planner: one place that turns what the user asked for (a method, K, delta, ...) and the
// mask scores into Interventions whose tensors sit on the model's device in its dtype, once per
// run. Errors name the spec's fields ("top_k", "delta", "caa.layers", "positions"); each
// command maps them to its own flags (apps/sadi/options.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "sadi/core/mask_scores.hpp"
#include "sadi/model/manifest.hpp"
#include "sadi/steer/intervention.hpp"

namespace sadi {

struct InterventionSpec {
  Method method = Method::kSadi;
  Mode mode = Mode::kLive;             // caa and iti always run live
  Positions positions = Positions::kPromptLast;               // sadi and its controls
  Positions shift_positions = Positions::kFromPromptLast;     // caa, iti
  Site site = Site::kHead;             // caa always steers the residual stream, iti the heads
  int64_t top_k = 0;                   // sadi, fixed*, random, iti: 1..elements of the site
  double delta = 0;                    // the strength (caa: multiplier, iti: alpha); finite in the model's dtype
  std::vector<int64_t> caa_layers;     // caa: layers to add at (empty: the middle layer, L / 2)
  uint64_t seed = 0;                   // random: which K elements
};

// A spec of `method` with every other field at its default (e.g. the unsteered row: kNone).
inline InterventionSpec spec_of(Method method) {
  InterventionSpec s;
  s.method = method;
  return s;
}

// Where the tensors go and what they must fit.
struct PlanTarget {
  const ModelInfo* info = nullptr;
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;
};

// Unsteered activations of a site at the last prompt token of calibration inputs (eval: the dev
// items), from which fixed and fixed-dir take SADI's mean edit (calibration.hpp makes them).
struct Calibration {
  Site site = Site::kHead;
  torch::Tensor acts;  // [n, L, U] float32, CPU
  std::string origin;  // what the inputs were, for errors and records
};

// The mask scores a plan reads, with the name of the file they came from (for errors), and the
// calibration activations where a method needs them.
struct MaskSource {
  const MaskFile* mask = nullptr;  // null: no mask given (only method none plans)
  std::string origin;
  const Calibration* calibration = nullptr;
};

// Plans one intervention. Method none needs no mask. Throws sadi::Error naming the field.
Intervention plan_intervention(const InterventionSpec& spec, const MaskSource& mask, const PlanTarget& target);

// A grid with baselines: the unsteered point first, then for each method in `methods` (in
// order): sadi, fixed, fixed-dir, fixed-raw: every K x every delta; random: every seed x K x
// delta (seeds common.seed, +1, ...); caa: every layer of caa_layers (empty: all) x every
// multiplier, one layer per point; iti: every iti K x every alpha.
struct GridSpec {
  std::vector<Method> methods;  // without none
  std::vector<int64_t> top_k;
  std::vector<double> delta;
  int64_t random_seeds = 20;
  std::vector<double> caa_multipliers;
  std::vector<int64_t> iti_top_k;   // empty: iti_default_top_k(the model's heads)
  std::vector<double> iti_alpha;
  InterventionSpec common;          // mode, positions, site, caa_layers, seed
};

// Warnings for the K values whose top-K a bootstrap found unstable (a resample keeps less than
// half of it on average; mask files from sadi identify --bootstrap). Empty when all is well or
// the mask has no stability data.
std::vector<std::string> stability_warnings(const SiteScores& site, const std::vector<int64_t>& top_k);

// ITI's default K grid: 1, 2, 4, ..., 32, 48 (honest_llama's operating point is 48 heads), the
// values below `heads` and then min(heads, 48): e.g. 16 heads -> 1, 2, 4, 8, 16.
std::vector<int64_t> iti_default_top_k(int64_t heads);

// Whether planning `methods` needs calibration activations (fixed, fixed-dir).
bool needs_calibration(const std::vector<Method>& methods);

std::vector<Intervention> plan_grid(const GridSpec& grid, const MaskSource& mask, const PlanTarget& target);

}  // namespace sadi
