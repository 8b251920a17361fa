#pragma once
// Partial eval results: what an interrupted `sadi eval` writes to --out (flagged "partial": true)
// and what `sadi eval --resume` continues from (docs/eval.md, "Interruption and resume").
#include <string>

#include "sadi/core/json.hpp"
#include "sadi/eval/eval.hpp"

namespace sadi {

// {"rows_total", "rows_done", "values" | "texts"}; non-finite values are written as strings.
Json checkpoint_to_json(const RowCheckpoint& ck, Metric metric);

// Reads what checkpoint_to_json wrote; errors name `origin` and the key.
RowCheckpoint checkpoint_from_json(const Json& j, Metric metric, const std::string& origin,
                                   const std::string& prefix);

// The partial result: the run's configuration `config` (everything that decides the rows and
// their values), the checkpoints of the test and dev splits and the command line.
Json partial_result(const Json& config, const RowCheckpoint& test, const RowCheckpoint* dev, Metric metric,
                    const std::string& command_line);

// True when `results` is a partial result.
bool is_partial_result(const Json& results);

// Checks that a partial result read from `origin` was made by the same run as `config`, and
// reads its checkpoints. Throws sadi::Error (input) naming the first key that differs.
void resume_from_partial(const Json& partial, const Json& config, Metric metric, const std::string& origin,
                 RowCheckpoint& test, RowCheckpoint& dev);

}  // namespace sadi
