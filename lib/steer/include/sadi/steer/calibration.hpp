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

// The prompts run as eval's prompt pass runs them (PrefixCache: blocks a template shares run
// once, batch_size blocks per forward), capturing `site` at the last prompt token, so the values
// are the clean values eval's rows see. Prompts are taken in chunks whose K/V fit in cache_bytes
// (at least one each). Throws sadi::Error (input) naming `origin` when there is no prompt or one
// is longer than the model's maximum.
Calibration calibrate(Model& model, const Tokenizer& tok, const std::vector<std::string>& prompts, Site site,
                      int64_t batch_size, const std::string& origin, int64_t cache_bytes = int64_t{256} << 20);

}  // namespace sadi
