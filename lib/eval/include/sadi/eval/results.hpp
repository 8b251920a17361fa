#pragma once
// EvalResult and its codec: the one place that writes the results JSON
// (docs/results.schema.json) for eval and merge, and reads shards back for merge.
#include <string>
#include <vector>

#include "sadi/core/json.hpp"
#include "sadi/eval/eval.hpp"
#include "sadi/steer/intervention.hpp"

namespace sadi {

struct ScoredPoint {
  InterventionLabel point;
  PointScore dev;   // empty without a dev split
  PointScore test;
};

struct EvalResult {
  // What was run, as the results record it: tool_version, metric, mode, site, model, task,
  // mask, grid, seed, and dev, shard or merged_from where they apply.
  Json header = Json::object();
  Metric metric = Metric::kExactMatch;
  uint64_t seed = 0;
  bool has_dev = false;
  bool whole = true;  // false: one shard of a run (no selection until merged)
  std::vector<ScoredPoint> points;
  std::string command_line;
};

// The results JSON: the header, "points", "selected", "oracle" (when SADI points exist and the
// result is whole) and "command_line".
Json encode_result(const EvalResult& r);

// Reads back what encode_result wrote (the per-point scores; "selected" and "oracle" are
// derived and not read). Throws sadi::Error (input) naming `origin` and the key.
EvalResult decode_result(const Json& j, const std::string& origin);

// The results header's keys that say which run made a result, in the order they are checked:
// a complete result is "this run" (--resume) and shards belong to one run (sadi merge) only when
// all of them agree (compared without paths and split sizes: run_identity).
inline constexpr const char* kRunIdentityKeys[] = {"model", "task", "dev", "mask", "metric", "mode",
                                                   "site",  "grid", "em_rule", "seed"};
// A header's value of `key` without what may differ between machines or shards of one run (the
// "file" and "dir" paths, the split sizes "n" and "n_test").
Json run_identity(const Json& header, const char* key);

// Shards of one run (`sadi eval --shard I/N`), each a results JSON with its source path.
struct ShardResult {
  std::string path;
  Json json;
};

// Combines the N shards of one run into the result of the whole run: checks that they agree on
// every key of kRunIdentityKeys and that every
// shard 1..N is there once, and puts each split's per-item results back in file order. Throws
// sadi::Error (input) naming the file and key.
EvalResult merge_shards(const std::vector<ShardResult>& shards);

}  // namespace sadi
