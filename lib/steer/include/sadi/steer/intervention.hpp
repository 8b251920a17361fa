#pragma once
// One steering intervention: what it is (label), where it acts (site, positions), how (mode),
// and its per-layer tensors, already on the model's device and in its dtype. Every steering in
// sadi -- a SADI grid point, a baseline, the unsteered row -- is one Intervention, made by the
// planner (planner.hpp) and applied by BatchSteering (steered_forward.hpp).
//
// Shapes: L layers, U steering units of the site (SiteInfo::units; heads: H*Dh).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/script.h>

#include "sadi/core/site.hpp"

namespace sadi {

// none: no steering (the baseline row). sadi: A' = A + delta*(A ⊙ M) on the top-K elements.
// fixed: A' = A + mean over calibration (dev) inputs of SADI's own edit delta*(A ⊙ M).
// fixed-dir: A' = A + (Delta ⊙ M) rescaled to the mean norm of SADI's edit on those inputs.
// fixed-raw: A' = A + delta*(Delta ⊙ M) (the paper's Table 4 wording; tiny when Delta is).
// random: SADI's edit on K seeded random elements.
// caa: A' = A + m*v_l, v_l the residual mean difference at one layer l (Rimsky et al.).
// iti: A' = A + alpha*sigma_h*theta_h on the K heads of best probe accuracy (Li et al.).
enum class Method { kNone, kSadi, kFixed, kFixedDir, kFixedRaw, kRandom, kCaa, kIti };
// live: one pass, the edit reads the activation as the forward computes it. clamp: the
// reference code's two passes (a clean pass, then the whole site overwritten at the steered
// position in every layer with the edited clean values).
enum class Mode { kLive, kClamp };
// Which positions are steered: the last prompt token; the last prompt token and every token
// after it (generated, or the answer in teacher-forced scoring: CAA's and ITI's rule); every
// prompt token; every token.
enum class Positions { kPromptLast, kFromPromptLast, kPromptAll, kAll };

// The names, listed once (method_names() is the documented order).
const char* method_name(Method m);
const char* mode_name(Mode m);
const char* positions_name(Positions p);
const std::vector<Method>& all_methods();  // none, sadi, fixed, fixed-dir, fixed-raw, random, caa, iti
// Whether positions p steers tokens after the prompt (generated or answer tokens).
bool steers_after_prompt(Positions p);
// Parse a name; throw sadi::Error (usage) naming `field` and the valid names.
Method parse_method(const std::string& s, const std::string& field = "method");
Mode parse_mode(const std::string& s, const std::string& field = "mode");
Positions parse_positions(const std::string& s, const std::string& field = "positions");

// What a grid point is called in reports: method, K (0 for none and caa), strength (delta;
// caa: the multiplier; iti: alpha), seed (random), layer (caa).
struct InterventionLabel {
  Method method = Method::kNone;
  int64_t top_k = 0;
  double delta = 0;
  uint64_t seed = 0;   // random: which K elements; else 0
  int64_t layer = -1;  // caa: the layer added at; else -1
  bool operator==(const InterventionLabel& o) const {
    return method == o.method && top_k == o.top_k && delta == o.delta && seed == o.seed && layer == o.layer;
  }
};

struct Intervention {
  InterventionLabel label;
  Site site = Site::kHead;
  Mode mode = Mode::kLive;
  Positions positions = Positions::kPromptLast;
  // A' = A + A * scale + add at the steered positions (clamp: A = the clean value there).
  torch::Tensor scale;            // [L, U] model dtype and device, or undefined
  torch::Tensor add;              // [L, U] model dtype and device, or undefined
  std::vector<int64_t> layers;    // layers where scale or add is nonzero (sorted); empty: no edit
  std::vector<int64_t> elements;  // the chosen elements (layer * score_units + unit), best first

  // False only for the unsteered row: every other intervention takes part in clamp's clean pass
  // even when it edits nothing (delta = 0).
  bool steers() const { return label.method != Method::kNone; }
};

}  // namespace sadi
