#pragma once
// Private to sadi_eval: one steered forward over a batch of rows of a RowPlan, scored where the
// logits are (exact-match: 1 or 0 per row; choice: the candidate's summed log-probability).
#include <cstdint>
#include <vector>

#include "row_plan.hpp"
#include "sadi/model/prefix_cache.hpp"

namespace sadi {

// Layer sharing: per stream of a chunk (RowPlan::streams), the unsteered residual stream at each
// of its tokens: [T_s, L, d] (T_s = answer tokens + 1), what layer l puts out at [:, l].
using ChunkStreams = std::vector<torch::Tensor>;

// Runs a chunk's streams unsteered from their prompts in `prefix` (batches as score_rows'),
// keeping every layer's output at every token.
ChunkStreams clean_streams(Model& model, const std::vector<RowJob>& streams, int64_t batch_size, const PrefixCache& prefix);

// Rows [start, end) of `jobs`: one chunk's shared rows (then `prefix` holds that chunk's prompts,
// filled with the sites clamp points read, and `streams`, when not null and not empty, that
// chunk's clean_streams: a batch runs from the lowest layer its rows edit) or whole rows (prefix
// and streams unused).
std::vector<double> score_rows(Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                               const std::vector<Intervention>& points, const EvalRun& run,
                               const std::vector<RowJob>& jobs, int64_t start, int64_t end, const PrefixCache* prefix,
                               const ChunkStreams* streams = nullptr);

}  // namespace sadi
