#pragma once
// Turning scores into results: per-point accuracies with intervals, dev selection (dev labels
// only), the labelled oracle, the JSON fields of docs/results.schema.json and the stdout table.
#include <cstdint>
#include <ostream>
#include <vector>

#include "sadi/core/json.hpp"
#include "sadi/eval/eval.hpp"

namespace sadi {

struct ScoredPoint {
  EvalPoint point;
  PointScore dev;   // empty without a dev split
  PointScore test;
};

// Best point of `method` by dev accuracy (ties: the first in grid order), or null. Reads only
// the dev scores.
const ScoredPoint* select_on_dev(const std::vector<ScoredPoint>& all, const std::string& method);

// Best SADI point by test accuracy (the optimistic oracle), or null.
const ScoredPoint* oracle_on_test(const std::vector<ScoredPoint>& all);

// Adds "points", "selected" and (when SADI points exist) "oracle" to `results`. With
// select = false (one shard of a run) "selected" stays empty and there is no oracle.
void add_scores(Json& results, const std::vector<ScoredPoint>& all, bool has_dev, uint64_t seed, Metric metric,
                bool select = true);

// The readable table: every point, then the dev-selected points, then the oracle.
void print_table(std::ostream& os, const std::vector<ScoredPoint>& all, bool has_dev, uint64_t seed,
                 bool select = true);

// Shards of one run (`sadi eval --shard I/N`), each a results JSON with its source path.
struct ShardResult {
  std::string path;
  Json json;
};

// Combines the N shards of one run into the results of the whole run: checks that they come
// from the same model, task, dev split, mask, grid, metric, mode, site and seed and that every
// shard 1..N is there once, puts each split's per-item results back in file order, and fills
// `scored` (steer pointers null). Returns the merged results without points/selected (the
// caller adds them with add_scores). Throws sadi::Error (input) naming the file and key.
Json merge_shards(const std::vector<ShardResult>& shards, std::vector<ScoredPoint>& scored, bool& has_dev,
                  uint64_t& seed, Metric& metric);

}  // namespace sadi
