#include "score_rows.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "sadi/core/error.hpp"
#include "sadi/model/batch.hpp"
#include "sadi/steer/steered_forward.hpp"

namespace sadi {
namespace {

// One forward's rows, ready to run: inputs, where each row is steered, and how to run it.
struct Prepared {
  ForwardInput in;
  torch::Tensor at;          // [B, T] bool: steered positions (each row's own rule)
  torch::Tensor clean_col;   // whole rows: [B, 1] the last prompt token's column (clamp's clean pass)
  std::optional<PrefixStart> start;  // shared rows: the cache holding each row's prompt prefix
  std::map<Site, torch::Tensor> clean;  // shared rows, clamp: site -> [B, L, U] clean values
};

// Whole rows: prompt + answer left-padded in one forward from slot 0.
Prepared prepare_whole(const Model& model, const std::vector<RowJob>& jobs, int64_t start, int64_t end,
                       const BatchSteering& steering) {
  const int64_t b = end - start;
  std::vector<std::vector<int64_t>> rows;
  for (int64_t r = start; r < end; ++r) rows.push_back(jobs[static_cast<size_t>(r)].ids);
  auto batch = left_pad(rows, 0, torch::kCPU);
  int64_t n_max = 0;
  for (int64_t r = start; r < end; ++r) n_max = std::max(n_max, jobs[static_cast<size_t>(r)].n_logits());
  std::vector<int64_t> last_col(static_cast<size_t>(b));    // the last prompt token's column
  auto clean_col = torch::zeros({b, 1}, torch::kInt64);      // [B, 1]
  auto logits_at = torch::zeros({b, n_max}, torch::kInt64);  // [B, N] positions whose predictions count
  for (int64_t r = 0; r < b; ++r) {
    const RowJob& j = jobs[static_cast<size_t>(start + r)];
    const int64_t last = batch.column(static_cast<size_t>(r), j.n_prompt - 1);
    const int64_t from = batch.column(static_cast<size_t>(r), j.logits_from());
    last_col[static_cast<size_t>(r)] = last;
    clean_col[r][0] = last;
    for (int64_t k = 0; k < n_max; ++k) logits_at[r][k] = from + std::min(k, j.n_logits() - 1);
  }
  Prepared p;
  p.in = ForwardInput{batch.input_ids.to(model.device()), batch.positions.to(model.device()),
                      batch.key_mask.to(model.device()), 0, logits_at.to(model.device()), nullptr, {}};
  p.at = steering.at(batch.key_mask, last_col);
  p.clean_col = clean_col.to(model.device());
  return p;
}

// Shared rows: the prompt's K/V from the cache, then [last prompt token, answer] per row
// (right-padded: padding after a row's tokens is never attended to by them).
Prepared prepare_shared(const Model& model, const std::vector<RowJob>& jobs, int64_t start, int64_t end,
                        const BatchSteering& steering, const PrefixCache& prefix) {
  const int64_t b = end - start;
  std::vector<size_t> entries;
  std::vector<const std::vector<int64_t>*> rows;
  std::vector<int64_t> from;  // each row runs its last prompt token and its answer
  for (int64_t r = start; r < end; ++r) {
    const RowJob& j = jobs[static_cast<size_t>(r)];
    entries.push_back(j.entry);
    rows.push_back(&j.ids);
    from.push_back(j.n_prompt - 1);
  }
  const ContinuedBatch batch = right_pad_from(rows, from);
  const int64_t t = batch.width;
  auto logits_at = torch::zeros({b, t - 1}, torch::kInt64);  // [B, N] N = T - 1
  auto at_a = logits_at.accessor<int64_t, 2>();
  for (int64_t r = 0; r < b; ++r) {
    for (int64_t k = 0; k < t - 1; ++k) at_a[r][k] = std::min(k, batch.lengths[static_cast<size_t>(r)] - 2);
  }
  Prepared p;
  p.start = prefix.start(entries, t);
  const int64_t w = p.start->width;
  auto key_mask = torch::cat({p.start->key_mask, batch.real.to(model.device())}, 1);  // [B, W + T]
  p.in = ForwardInput{batch.input_ids.to(model.device()), batch.positions.to(model.device()), key_mask, w,
                      logits_at.to(model.device()), nullptr, {}};
  p.at = steering.at(batch.real, std::vector<int64_t>(static_cast<size_t>(b), 0));  // column 0: the last prompt token
  for (Site s : steering.sites()) {
    if (prefix.captures(s)) p.clean[s] = prefix.clean(s, entries);
  }
  return p;
}

// exact-match: 1/0 (the greedy answer equals the reference); choice: the summed log-probability
// of the candidate's tokens. logits [B, N, V] on the model's device; the host receives [B, N].
std::vector<double> values_of(const torch::Tensor& logits, const Tokenizer& tok, const std::vector<TaskItem>& items,
                              const EvalRun& run, const std::vector<RowJob>& jobs, int64_t start, int64_t end) {
  const int64_t b = end - start;
  std::vector<double> values;
  if (run.metric == Metric::kExactMatch) {
    auto pred_t = logits.argmax(-1).to(torch::kCPU);  // [B, N] greedy ids
    auto pred = pred_t.accessor<int64_t, 2>();
    for (int64_t r = 0; r < b; ++r) {
      const RowJob& j = jobs[static_cast<size_t>(start + r)];
      std::vector<int64_t> ids;  // the predictions of the row's last `window` tokens
      for (int64_t k = j.n_logits() - j.window; k < j.n_logits(); ++k) ids.push_back(pred[r][k]);
      values.push_back(exact_match(tok.decode(ids), items[j.item].answer, run.match_rule) ? 1 : 0);
    }
    return values;
  }
  const int64_t n = logits.size(1);
  auto targets = torch::zeros({b, n}, torch::kInt64);  // [B, N] answer token ids (0 past a row's answer)
  for (int64_t r = 0; r < b; ++r) {
    const RowJob& j = jobs[static_cast<size_t>(start + r)];
    for (int64_t k = 0; k < j.answer_tokens(); ++k) targets[r][k] = j.ids[static_cast<size_t>(j.n_prompt + k)];
  }
  auto logp_t = torch::log_softmax(logits, -1)
                    .gather(-1, targets.to(logits.device()).unsqueeze(-1))
                    .squeeze(-1)
                    .to(torch::kCPU);  // [B, N] log p(answer token)
  auto logp = logp_t.accessor<float, 2>();
  for (int64_t r = 0; r < b; ++r) {
    const RowJob& j = jobs[static_cast<size_t>(start + r)];
    double sum = 0;
    for (int64_t k = 0; k < j.answer_tokens(); ++k) sum += logp[r][k];
    values.push_back(sum);
  }
  return values;
}

}  // namespace

std::vector<double> score_rows(Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                               const std::vector<Intervention>& points, const EvalRun& run,
                               const std::vector<RowJob>& jobs, int64_t start, int64_t end, const PrefixCache* prefix) {
  std::vector<const Intervention*> steers;
  for (int64_t r = start; r < end; ++r) steers.push_back(&points[jobs[static_cast<size_t>(r)].point]);
  // Each row steered at its intervention's positions: the last prompt token, or (caa, iti) also
  // every answer token after it, as they would be generated.
  const BatchSteering steering(steers, model);
  const bool shared = jobs[static_cast<size_t>(start)].chunk >= 0;
  if (shared && !prefix) throw_runtime("score_rows: prefix-shared rows without their prompts' cache");
  Prepared p = shared ? prepare_shared(model, jobs, start, end, steering, *prefix)
                      : prepare_whole(model, jobs, start, end, steering);
  ForwardOutput out = shared ? steering.forward_with_clean(model, p.in, &p.start->cache, p.at, p.clean)
                             : steering.forward(model, p.in, nullptr, p.at, p.clean_col);
  return values_of(out.logits, tok, items, run, jobs, start, end);
}

}  // namespace sadi
