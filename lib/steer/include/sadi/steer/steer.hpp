#pragma once
// Steering plans: a mask file + method + K + delta resolved against a model into per-row
// steering vectors, and the per-call Steering tensors built from them.
//
// Shapes: L layers, U steering units of the site (heads: H*Dh), B rows, T tokens of a call.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/script.h>

#include "sadi/core/site.hpp"
#include "sadi/io/mask_file.hpp"
#include "sadi/model/batch.hpp"
#include "sadi/model/model.hpp"

namespace sadi {

enum class Method { kSadi, kFixed, kRandom, kCaa };
enum class Mode { kLive, kClamp };
enum class StepPositions { kPromptLast, kPromptAll, kAll };

Method parse_method(const std::string& s);            // sadi | fixed | random | caa
Mode parse_mode(const std::string& s);                // live | clamp
StepPositions parse_steer_positions(const std::string& s);  // prompt-last | prompt-all | all
const char* method_name(Method m);
const char* mode_name(Mode m);
const char* steer_positions_name(StepPositions p);

struct SteerConfig {
  Method method = Method::kSadi;
  Mode mode = Mode::kLive;
  Site site = Site::kHead;
  int64_t top_k = 0;
  double delta = 0.0;
  std::vector<int64_t> layers;  // caa: layers to add at (empty: all)
  StepPositions positions = StepPositions::kPromptLast;
  uint64_t seed = 0;            // random: which K elements
};

// One row's steering: A' = A + scale * A + add at the steered positions.
struct RowSteer {
  Site site = Site::kHead;
  torch::Tensor scale;          // [L, U] float32 or undefined
  torch::Tensor add;            // [L, U] float32 or undefined
  std::vector<int64_t> layers;  // layers with any nonzero entry (sorted)
  std::vector<int64_t> elements;  // selected (layer * units + unit) ranked elements, for reports
};

// Resolves a config against a mask file already checked against the model. Throws sadi::Error
// for a site missing from the mask, K out of range, a non-finite delta, bad layers.
RowSteer resolve_steer(const SteerConfig& cfg, const MaskFile& mask, const std::filesystem::path& mask_path,
                       const ModelInfo& info);

// The per-call Steering for `rows` (nullptr = unsteered row) editing at `at` [B, T] (bool).
// Rows share one tensor per layer; rows without a layer get zeros there (bit-identical).
Steering live_steering(const std::vector<const RowSteer*>& rows, const torch::Tensor& at, const ModelInfo& info);

// Clamp mode: overwrite the whole site at `at` with the edited clean values.
// clean: per site used by any row, [B, L, U] its clean activations at each row's steered
// position (from capture_clean()).
Steering clamp_steering(const std::vector<const RowSteer*>& rows, const std::map<Site, torch::Tensor>& clean,
                        const torch::Tensor& at, const ModelInfo& info);

// Clamp mode's clean pass: runs `batch` without steering and returns, for every site any row
// steers, its values at each row's column `col` ([B, 1] int64): site -> [B, L, U].
std::map<Site, torch::Tensor> capture_clean(Model& model, const PaddedBatch& batch, const torch::Tensor& col,
                                            const std::vector<const RowSteer*>& rows);

}  // namespace sadi
