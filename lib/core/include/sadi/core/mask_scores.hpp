#pragma once
// Mask scores: what `sadi identify` finds per site (mean differences, ranking, optional top-K
// mask) and the provenance that makes a mask file self-describing. Domain types shared by
// identify (which makes them), lib/io (which stores them in HDF5) and steer (which plans
// interventions from them); docs/identify.md ("Mask file") has the file layout.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sadi/core/shard.hpp"
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
  std::vector<int32_t> ranking;      // [L*H, 2] (layer, head), best probe first (ties: higher first)
  std::vector<int32_t> val_index;    // [val_pairs] the held-out pairs (indices into the pairs used), ascending;
                                     // empty in masks written before it was recorded
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

// What a mask file records about the run that made it (its root attributes; docs/identify.md,
// "Mask file"). The typed fields are what sadi identify writes and sadi reads back, each empty
// when a file lacks it; attributes this sadi does not know (older or newer files, notes added by
// hand) are kept as read in `other_text` / `other_integer`. lib/io's codec
// (sadi/io/mask_file.hpp: mask_attributes, provenance_from_attributes) is the one place that
// names the attributes and converts them.
struct MaskProvenance {
  using Text = std::optional<std::string>;
  using Int = std::optional<int64_t>;
  using Flag = std::optional<bool>;
  // The model and the pairs.
  Text model_fingerprint, model_dir, architecture, dtype, device;
  Text pairs_file, pairs_sha256;
  Int n_layers, pairs_in_file, pairs_used, pairs_skipped;
  Text skipped_ids;                // comma-separated ids of the pairs skipped as too long
  // How the pairs were read and ranked (what must agree between shards of one run).
  Text position, rank, separator;  // ReadPosition and RankRule names, the text between prompt and answer
  Flag strip, batch_invariant, prefix_sharing;
  Int max_length, batch_size, bootstrap, seed;
  std::optional<double> iti_val_fraction;  // when ITI's probes were computed
  std::optional<Shard> shard;              // sadi identify --shard I/N
  Int merged_shards;                       // sadi merge of that many shards
  // The file and the tool.
  Int format_version;
  Text content_sha256, tool_version, command_line;
  std::map<std::string, std::string> other_text;
  std::map<std::string, int64_t> other_integer;
};

struct MaskFile {
  MaskProvenance provenance;
  std::vector<SiteScores> sites;
  const SiteScores* find(Site s) const;
};

}  // namespace sadi
