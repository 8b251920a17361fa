#pragma once
// Refuses a mask file that was made for another model, instead of silently steering nothing.
#include <filesystem>

#include "sadi/core/mask_scores.hpp"
#include "sadi/model/manifest.hpp"

namespace sadi {

// Throws sadi::Error (input) naming the mask file, the attribute and both values when the
// mask's model fingerprint, layer count or unit counts differ from `model`.
void check_mask_matches_model(const MaskFile& mask, const std::filesystem::path& mask_path, const ModelInfo& model);

}  // namespace sadi
