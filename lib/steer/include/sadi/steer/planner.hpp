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
  Mode mode = Mode::kLive;
  Positions positions = Positions::kPromptLast;
  Site site = Site::kHead;             // caa always steers the residual stream
  int64_t top_k = 0;                   // sadi, fixed, random: 1..elements of the site
  double delta = 0;                    // finite, also in the model's dtype
  std::vector<int64_t> caa_layers;     // caa: layers to add at (empty: all)
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

// The mask scores a plan reads, with the name of the file they came from (for errors).
struct MaskSource {
  const MaskFile* mask = nullptr;  // null: no mask given (only method none plans)
  std::string origin;
};

// Plans one intervention. Method none needs no mask. Throws sadi::Error naming the field.
Intervention plan_intervention(const InterventionSpec& spec, const MaskSource& mask, const PlanTarget& target);

// A K x delta grid with baselines: the unsteered point first, then for each method in
// `methods` (sadi and the baselines, in order) every K (caa: K = 0 only) x every delta.
struct GridSpec {
  std::vector<Method> methods;  // without none
  std::vector<int64_t> top_k;
  std::vector<double> delta;
  InterventionSpec common;      // mode, positions, site, caa_layers, seed
};

std::vector<Intervention> plan_grid(const GridSpec& grid, const MaskSource& mask, const PlanTarget& target);

}  // namespace sadi
