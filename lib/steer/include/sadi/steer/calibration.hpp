#pragma once
// Calibration activations for the fixed-vector controls: the unsteered activations of a site at
// the last token of each calibration prompt (eval: the dev items' prompts). SADI's edit at that
// position is delta*(A ⊙ M) of exactly these values in clamp mode, and to first order in live
// mode (where an upstream edit can change A downstream; docs/baselines.md).
#include <cstdint>
#include <string>
#include <vector>

#include "sadi/model/model.hpp"
#include "sadi/model/tokenizer.hpp"
#include "sadi/steer/planner.hpp"

namespace sadi {

// One forward pass per batch of prompts of equal token length (no padding), capturing `site` at
// the last prompt token. Throws sadi::Error (input) naming `origin` when there is no prompt.
Calibration calibrate(Model& model, const Tokenizer& tok, const std::vector<std::string>& prompts, Site site,
                      int64_t batch_size, const std::string& origin);

}  // namespace sadi
