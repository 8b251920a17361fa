#pragma once
// Whether a loaded model.ts agrees with its manifest.json (sadi info --check): one forward pass
// that captures every site, and one that steers every site at every layer with a zero edit,
// which must give the same logits bit for bit (delta = 0 is no steering).
#include <cstdint>
#include <vector>

#include "sadi/model/model.hpp"

namespace sadi {

// Throws sadi::Error (input) naming model.ts and the site when the model's outputs disagree with
// the manifest's dims or sites, (runtime) when the forward itself fails.
void check_model_consistency(Model& model, const std::vector<int64_t>& ids);

}  // namespace sadi
