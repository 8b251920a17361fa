#pragma once
// Mask files (HDF5): what `sadi identify` writes and steering reads. Only lib/io touches HDF5.
// Layout (docs/mask-file.md): file attributes = provenance; one group per site with
// mean_diff [L, U], std [L, U], ranking [L*U, 2] (layer, unit), ranking_score [L*U],
// optional mask [L, U] (top-K), and for heads mean_diff_full [L, H*Dh].
#include <cstdint>
#include <filesystem>
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

// Provenance attributes. Strings and integers, written as HDF5 attributes on the root group.
struct MaskProvenance {
  std::map<std::string, std::string> text;
  std::map<std::string, int64_t> integer;
};

struct MaskFile {
  MaskProvenance provenance;
  std::vector<SiteScores> sites;
  const SiteScores* find(Site s) const;
};

// Writes atomically (temporary sibling, then rename); nothing is left behind on failure.
void write_mask_file(const std::filesystem::path& path, const MaskFile& mask);
// Reads and validates shapes; throws sadi::Error naming the file and the dataset or attribute.
MaskFile read_mask_file(const std::filesystem::path& path);

}  // namespace sadi
