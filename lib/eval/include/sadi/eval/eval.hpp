#pragma once
// Scoring a task under many steering configurations at once: every (item, configuration) pair
// is one batch row with its own steering, so a K x delta grid and its baselines share batches.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sadi/eval/scoring.hpp"
#include "sadi/eval/task.hpp"
#include "sadi/model/model.hpp"
#include "sadi/model/tokenizer.hpp"
#include "sadi/steer/intervention.hpp"

namespace sadi {

enum class Metric { kExactMatch, kChoice, kGenerateEm };
Metric parse_metric(const std::string& s);  // exact-match | choice | generate-em
const char* metric_name(Metric m);

struct PointScore {
  std::vector<uint8_t> correct;       // per item
  std::vector<uint8_t> correct_norm;  // choice: length-normalised log-likelihood; else empty
  std::vector<std::vector<double>> loglik;  // choice: [item][choice] summed log-probability
  std::vector<std::string> predictions;     // generate-em: each item's generated text
  double seconds = 0;  // share of the run's time (rows of this point / all rows); < 0: not reported
};

struct EvalRun {
  Metric metric = Metric::kExactMatch;
  int64_t batch_size = 32;  // rows per forward pass
  std::string separator = " ";
  MatchRule match_rule = MatchRule::kReference;  // exact-match
  // generate-em: greedy decoding of at most max_new_tokens, cut at the first stop string.
  int64_t max_new_tokens = 16;
  std::vector<std::string> stop{"\n"};
  // Each distinct prompt's K/V computed once and reused by every row that starts with it (grid
  // points, choices), a chunk of prompts of at most prefix_cache_bytes at a time; rows steered
  // inside the prompt (prompt-all, all) run whole. docs/eval.md, "Prefix sharing".
  bool prefix_sharing = true;
  int64_t prefix_cache_bytes = int64_t{256} << 20;
  // With prefix sharing, each distinct row (prompt and answer) also runs once unsteered, keeping
  // what every layer puts out at its tokens; a row first steered in layer f then runs layers f..L-1
  // only (Model::forward_from; an unsteered row: the head alone). Clamp rows run every layer.
  // Models exported before forward_from run every layer. docs/eval.md, "Layer sharing".
  bool layer_sharing = true;
};

using EvalProgress = std::function<void(int64_t rows_done, int64_t rows_total)>;

// What a split's run has done so far: the values of its first rows_done rows, in the run's fixed
// row order (items x points x choices sorted by length). Rows are done batch by batch, so
// resuming with the same batch size gives batches of exactly the same rows (same numbers).
struct RowCheckpoint {
  int64_t rows_total = 0;
  int64_t rows_done = 0;
  std::vector<double> values;      // choice: summed log-probability; exact-match: 1 or 0
  std::vector<std::string> texts;  // generate-em: the generated text
  bool complete() const { return rows_done == rows_total; }
};

// Scores every item under every point (an intervention each; method none: unsteered; each
// steered at its own positions, the answer tokens counting as generated ones). Throws sadi::Error (input) naming an item whose answer
// adds no token after the prompt, or that exceeds the model's length.
//
// With a checkpoint: rows it already holds are not run again (its rows_total must match this
// run); between batches, an interruption (sadi/core/interrupt.hpp) stops the run early and the
// checkpoint holds what was done. The returned scores are complete only when
// checkpoint->complete().
std::vector<PointScore> evaluate(Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                                 const std::vector<Intervention>& points, const EvalRun& run,
                                 const EvalProgress& progress = {}, RowCheckpoint* checkpoint = nullptr);

struct Interval {
  double lo = 0, hi = 0;
};
double accuracy(const std::vector<uint8_t>& correct);
// 95% percentile bootstrap interval of the accuracy (seeded, 1000 resamples).
Interval bootstrap_interval(const std::vector<uint8_t>& correct, uint64_t seed, int resamples = 1000);

}  // namespace sadi
