#pragma once
// Turning scores into results: per-point accuracies with intervals, dev selection (dev labels
// only), the labelled oracle, the JSON fields of docs/results.schema.json and the stdout table.
#include <cstdint>
#include <ostream>
#include <vector>

#include "sadi/core/json.hpp"
#include "sadi/eval/eval.hpp"
#include "sadi/eval/results.hpp"

namespace sadi {

// Best point of `method` by dev accuracy (ties: the first in grid order), or null. Reads only
// the dev scores.
const ScoredPoint* select_on_dev(const std::vector<ScoredPoint>& all, Method method);

// Best SADI point by test accuracy (the optimistic oracle), or null.
const ScoredPoint* oracle_on_test(const std::vector<ScoredPoint>& all);

// The readable table: every point, then the dev-selected points, then the oracle.
void print_table(std::ostream& os, const EvalResult& result);

}  // namespace sadi
