#pragma once
// Turning scores into results: per-point accuracies with intervals, dev selection (dev labels
// only), the labelled oracle, the JSON fields of docs/results.schema.json and the stdout table.
#include <cstdint>
#include <optional>
#include <ostream>
#include <vector>

#include "sadi/core/json.hpp"
#include "sadi/eval/eval.hpp"
#include "sadi/eval/results.hpp"

namespace sadi {

// Best point of `method` by dev accuracy (ties: the first in grid order), or null; with a seed,
// only that seed's points. Reads only the dev scores.
const ScoredPoint* select_on_dev(const std::vector<ScoredPoint>& all, Method method,
                                 std::optional<uint64_t> seed = std::nullopt);

// The random baseline over its seeds: for each seed, the point of that seed selected on dev;
// the mean and sd of their test accuracies, and where SADI's dev-selected test accuracy falls
// among them (percentile: the share of seeds below SADI, ties counted half).
struct RandomSummary {
  std::vector<const ScoredPoint*> per_seed;  // in seed order
  double test_mean = 0, test_sd = 0, dev_mean = 0;
  double sadi_percentile = -1;  // < 0: no SADI point
};
// Null when there are no random points or no dev split.
std::optional<RandomSummary> summarize_random(const std::vector<ScoredPoint>& all);

// Best SADI point by test accuracy (the optimistic oracle), or null.
const ScoredPoint* oracle_on_test(const std::vector<ScoredPoint>& all);

// The readable table: every point, then the dev-selected points, then the oracle.
void print_table(std::ostream& os, const EvalResult& result);

}  // namespace sadi
