#pragma once
// SADI steps 1-2: contrastive pairs -> mean activation differences -> ranked elements.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sadi/core/site.hpp"
#include "sadi/data/pairs.hpp"
#include "sadi/core/mask_scores.hpp"
#include "sadi/model/model.hpp"
#include "sadi/model/tokenizer.hpp"

namespace sadi {

enum class ReadPosition { kAnswerLast, kPromptLast };
enum class RankRule { kSigned, kAbs };

ReadPosition parse_position(const std::string& s);  // answer-last | prompt-last
RankRule parse_rank(const std::string& s);          // signed | abs
const char* position_name(ReadPosition p);
const char* rank_name(RankRule r);

struct IdentifyOptions {
  std::vector<Site> sites{kAllSites.begin(), kAllSites.end()};
  ReadPosition position = ReadPosition::kAnswerLast;
  RankRule rank = RankRule::kSigned;
  std::string separator = " ";  // sequence = prompt + separator + answer
  int64_t top_k = 0;            // > 0: also store a binary mask of the top K per site
  int64_t batch_size = 8;       // pairs per batch (2x sequences)
  int64_t max_length = 0;       // 0: the model's max_positions
  bool strict = false;          // too-long pairs are an error instead of skipped
  bool strip = true;            // strip prompt and answers of surrounding whitespace (the reference code)
  bool iti = true;              // head site: also ITI's directions, spreads and probes
  double iti_val_fraction = 0.2;  // pairs held out to score ITI's probes (honest_llama's default)
  int64_t bootstrap = 0;        // > 0: resamples of the pairs for the ranking's stability
  uint64_t seed = 0;            // ITI's held-out pairs, bootstrap resamples
  // Each prompt's K/V computed once for both sequences of its pair (a batch with a pair whose
  // answer adds no token runs whole sequences).
  bool prefix_sharing = true;
  // Keep each site's float64 running statistics in the result (sadi identify --shard), so that
  // shards merge exactly (merge_mask_shards).
  bool keep_stats = false;
};

// One site's statistics of the per-pair differences (positive - negative): count, mean and sum
// of squared deviations from it, [L, U] float64, and (heads) the sum of the full-resolution
// differences [L, U * group] float64 (undefined elsewhere).
struct SiteStats {
  int64_t n = 0;
  torch::Tensor mean, m2, full_sum;
};

// The statistics of the union of two disjoint sets of pairs (Chan, Golub and LeVeque's parallel
// update): equal to accumulating every pair in one pass up to float64 rounding.
SiteStats combine_stats(const SiteStats& a, const SiteStats& b);

// What identify writes for a site from its statistics: mean differences, spread, z-scores, the
// ranking (rank rule; ties: lower index first) and the top-K mask; keep_stats also stores the
// statistics themselves.
SiteScores scores_from_stats(Site site, int64_t units, int64_t group, const SiteStats& st, RankRule rank,
                             int64_t top_k, bool keep_stats);

struct IdentifyStats {
  int64_t used = 0;
  int64_t skipped = 0;
  std::vector<std::string> skipped_ids;
  double seconds = 0;
};

// Called after each batch: (pairs done, pairs total).
using ProgressFn = std::function<void(int64_t, int64_t)>;

// Runs every pair through the model (both sequences of a pair in one batch, pairs grouped by
// length), accumulates per-site differences positive - negative at the read position in
// float32 running statistics on the model's device, and ranks the elements.
std::vector<SiteScores> identify(Model& model, const Tokenizer& tok, const std::vector<Pair>& pairs,
                                 const IdentifyOptions& opts, IdentifyStats& stats, const ProgressFn& progress = {});

}  // namespace sadi
