#pragma once
// Mask scores: what `sadi identify` finds per site (mean differences, ranking, optional top-K
// mask) and the provenance that makes a mask file self-describing. Domain types shared by
// identify (which makes them), lib/io (which stores them in HDF5) and steer (which plans
// interventions from them); docs/mask-file.md has the file layout.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sadi/core/site.hpp"

namespace sadi {

inline constexpr int64_t kMaskFormatVersion = 1;

// ITI (Li et al. 2023) per head, from the same pairs (heads site only): the mass-mean
// direction, the spread of the activations along it, and a logistic probe's accuracy on a
// held-out part of the pairs, which ranks the heads.
struct ItiScores {
  std::vector<float> direction;      // [L, H*Dh] theta_h (unit length per head)
  std::vector<float> sigma;          // [L, H] std of all activations projected on theta_h
  std::vector<float> probe_accuracy; // [L, H] held-out accuracy of the head's probe
  std::vector<int32_t> ranking;      // [L*H, 2] (layer, head), best probe first
  int64_t train_pairs = 0, val_pairs = 0;
  bool empty() const { return sigma.empty(); }
};

// How stable the ranking is over bootstrap resamples of the pairs (sadi identify --bootstrap).
struct Stability {
  int64_t resamples = 0;               // 0: not computed
  uint64_t seed = 0;
  std::vector<int64_t> k;              // the K values of the overlap curve
  std::vector<float> overlap_mean;     // [k]: mean |top-K(resample) ∩ top-K(all pairs)| / K
  std::vector<float> overlap_sd;       // [k]
  int64_t frequency_k = 0;             // K of `frequency`
  std::vector<float> frequency;        // [L, units] share of resamples with the element in their top-K
};

struct SiteScores {
  Site site = Site::kHead;
  int64_t n_layers = 0;
  int64_t units = 0;                   // ranked elements per layer (heads: H)
  int64_t group = 1;                   // values per element (heads: Dh)
  int64_t count = 0;                   // pairs accumulated
  std::vector<float> mean_diff;        // [L, units]
  std::vector<float> std;              // [L, units], population std of the per-pair differences
  std::vector<float> mean_diff_full;   // [L, units * group]; heads only (empty otherwise)
  std::vector<int32_t> ranking;        // [L*units, 2] (layer, unit), best first
  std::vector<float> ranking_score;    // [L*units] score of each ranked element
  int64_t top_k = 0;                   // 0: no mask dataset
  std::vector<uint8_t> mask;           // [L, units] when top_k > 0
  std::vector<float> zscore;           // [L, units] mean_diff / standard error (empty in old files)
  ItiScores iti;                       // heads only, when computed
  Stability stability;                 // when computed
  // The running statistics behind mean_diff and std, in float64 (sadi identify --shard): what
  // sadi merge combines (Chan et al.'s parallel mean and variance). Empty in unsharded masks.
  std::vector<double> stat_mean;       // [L, units] mean of the per-pair differences
  std::vector<double> stat_m2;         // [L, units] sum of squared deviations from the mean
  std::vector<double> stat_full_sum;   // [L, units * group] heads: sum of the full-resolution differences
  bool has_stats() const { return !stat_mean.empty(); }
};

// Provenance attributes: strings and integers (HDF5 attributes on the file's root group).
struct MaskProvenance {
  std::map<std::string, std::string> text;
  std::map<std::string, int64_t> integer;
};

struct MaskFile {
  MaskProvenance provenance;
  std::vector<SiteScores> sites;
  const SiteScores* find(Site s) const;
};

}  // namespace sadi
