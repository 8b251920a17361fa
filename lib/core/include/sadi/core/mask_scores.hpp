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
