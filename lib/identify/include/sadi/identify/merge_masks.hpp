#pragma once
// sadi merge for masks: the shards of one `sadi identify --shard I/N` run -> the mask of the
// whole run (docs/identify.md, "Sharding").
#include <string>
#include <utility>
#include <vector>

#include "sadi/core/mask_scores.hpp"

namespace sadi {

// Combines every shard (each index 1..N once, in any order) into the mask the unsharded run
// writes: each site's statistics merged (combine_stats), then ranked and masked as identify does;
// equal to the unsharded mask's datasets (float64 statistics, float32 results). ITI probes and
// bootstrap stability are not in shards (they need every pair). Throws sadi::Error (input) naming
// the file and the key that does not fit (another run, a missing or repeated shard, no statistics).
// shards: (file name, mask).
MaskFile merge_mask_shards(const std::vector<std::pair<std::string, MaskFile>>& shards, const std::string& command_line);

}  // namespace sadi
