#pragma once
// Private to sadi_eval: one steered forward over a batch of rows of a RowPlan, scored where the
// logits are (exact-match: 1 or 0 per row; choice: the candidate's summed log-probability).
#include <cstdint>
#include <vector>

#include "row_plan.hpp"
#include "sadi/model/prefix_cache.hpp"

namespace sadi {

// Rows [start, end) of `jobs`: one chunk's shared rows (then `prefix` holds that chunk's prompts,
// filled with the sites clamp points read) or whole rows (prefix unused).
std::vector<double> score_rows(Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                               const std::vector<Intervention>& points, const EvalRun& run,
                               const std::vector<RowJob>& jobs, int64_t start, int64_t end, const PrefixCache* prefix);

}  // namespace sadi
