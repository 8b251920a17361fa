#pragma once
// Private to sadi_eval: which forward rows an evaluation runs, in which order, and which of them
// start from a shared prompt prefix (docs/eval.md, "Prefix sharing").
//
// A row is (item, grid point[, choice]). A prefix-shared row starts from its prompt's K/V
// (computed once per distinct prompt, held a chunk of prompts at a time) and runs only its last
// prompt token and answer; a whole row runs prompt and answer in one forward (prefix sharing off,
// or a point steered inside the prompt: prompt-all, all).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "sadi/eval/eval.hpp"

namespace sadi {

struct RowJob {
  size_t item = 0;
  size_t point = 0;
  size_t choice = 0;          // index into choices (choice metric), else 0
  std::vector<int64_t> ids;   // prompt + separator + answer (generate-em: the prompt)
  int64_t n_prompt = 0;       // tokens of the prompt alone
  int64_t chunk = -1;         // shared rows: the chunk of prompts the row starts from; -1: whole row
  size_t entry = 0;           // shared rows: the row's prompt within its chunk
  int64_t key = 0;            // a batch-invariant model batches only rows of one key (no padding)
  int64_t first_layer = 0;    // the first layer the row's steering edits (L: none; clamp: 0)
  int64_t stream = -1;        // layer-shared rows: the row's distinct tokens within its chunk (RowPlan::streams)
  int64_t window = 0;         // the predictions scored: those of the row's last `window` tokens
                              // (exact-match under --em-rule reference: the answer's tokens
                              // counted alone; otherwise the answer's tokens in context)
  int64_t answer_tokens() const { return static_cast<int64_t>(ids.size()) - n_prompt; }
  // The first position whose logits the row needs, and how many from there: from the last prompt
  // token, or earlier when the window reaches into the prompt.
  int64_t logits_from() const { return std::min(n_prompt, static_cast<int64_t>(ids.size()) - window) - 1; }
  int64_t n_logits() const { return static_cast<int64_t>(ids.size()) - 1 - logits_from(); }
};

struct RowPlan {
  std::vector<RowJob> jobs;  // in run order: shared rows chunk by chunk, then whole rows
  int64_t window_differs = 0;  // items whose answer window alone differs from in context
  std::vector<std::vector<std::vector<int64_t>>> prompts;  // chunk -> its distinct prompts' ids
  std::vector<size_t> n_cands;  // per item: candidates (choice) or 1
  // Layer sharing: chunk -> its distinct rows (prompt + answer tokens), in run order, one
  // representative row each (its point unused); empty without layer sharing.
  std::vector<std::vector<RowJob>> streams;
};

// The first layer `point` edits: L (the number of layers) when it edits none (unsteered, delta 0),
// 0 in clamp mode (clamp overwrites its site in every layer), else its lowest edited layer.
int64_t first_edited_layer(const Intervention& point, int64_t n_layers);

// Whether an evaluation of `model` shares layers (run.layer_sharing, with prefix sharing, and a
// model that can start at a layer).
bool shares_layers(const Model& model, const EvalRun& run);

// Whether point p may start from the unsteered prompt prefix: not steered before the last prompt
// token.
bool shares_prefix(const Intervention& point);

// Tokenizes each (item, candidate) once and lays out every row. Throws sadi::Error (input) naming
// an item whose answer adds no token after the prompt or that exceeds the model's length.
RowPlan plan_rows(const Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                  const std::vector<Intervention>& points, const EvalRun& run);

// generate-em: one row per (item, point) whose ids are the prompt's (n_prompt = all of them).
RowPlan plan_generation_rows(const Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                             const std::vector<Intervention>& points, const EvalRun& run);

// Where the batch starting at row `start` ends: at most batch_size rows of one chunk and, for a
// batch-invariant model, of one key.
int64_t batch_end(const std::vector<RowJob>& jobs, int64_t start, int64_t batch_size, bool invariant);

}  // namespace sadi
