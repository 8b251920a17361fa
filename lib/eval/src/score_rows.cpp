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
                        const BatchSteering& steering, const PrefixCache& prefix, int64_t first_layer = 0) {
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
  p.start = prefix.start(entries, t, first_layer);
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

// Layer sharing: the layer a batch of shared rows starts at (the lowest its rows edit; 0 without
// their streams).
int64_t batch_first_layer(const std::vector<RowJob>& jobs, int64_t start, int64_t end, const ChunkStreams* streams) {
  if (streams == nullptr || streams->empty()) return 0;
  int64_t first = jobs[static_cast<size_t>(start)].first_layer;
  for (int64_t r = start; r < end; ++r) first = std::min(first, jobs[static_cast<size_t>(r)].first_layer);
  return first;
}

// The rows' unsteered residual stream entering layer `first` (> 0), right-padded to t tokens with
// zeros (padding after a row's tokens is never attended to by them): [B, t, d].
torch::Tensor stream_input(const std::vector<RowJob>& jobs, int64_t start, int64_t end, const ChunkStreams& streams,
                           int64_t first, int64_t t) {
  std::vector<torch::Tensor> rows;
  for (int64_t r = start; r < end; ++r) {
    const torch::Tensor& s = streams.at(static_cast<size_t>(jobs[static_cast<size_t>(r)].stream));  // [T_r, L, d]
    auto x = s.select(1, first - 1);                                                                  // [T_r, d]
    if (x.size(0) < t) x = torch::cat({x, x.new_zeros({t - x.size(0), x.size(1)})});
    rows.push_back(x);
  }
  return torch::stack(rows);
}

}  // namespace

ChunkStreams clean_streams(Model& model, const std::vector<RowJob>& streams, int64_t batch_size, const PrefixCache& prefix) {
  ChunkStreams out(streams.size());
  const auto total = static_cast<int64_t>(streams.size());
  for (int64_t start = 0, end = 0; start < total; start = end) {
    end = batch_end(streams, start, batch_size, model.batch_invariant());
    const BatchSteering unsteered(std::vector<const Intervention*>(static_cast<size_t>(end - start), nullptr), model);
    Prepared p = prepare_shared(model, streams, start, end, unsteered, prefix);
    const int64_t b = end - start, t = p.in.input_ids.size(1);
    p.in.logits_at = p.in.logits_at.new_empty({b, 0});
    p.in.capture[Site::kResidual] = torch::arange(t, p.in.logits_at.options()).unsqueeze(0).expand({b, t}).contiguous();
    const ForwardOutput o = model.forward(p.in, &p.start->cache);
    const torch::Tensor& h = o.captured.at(Site::kResidual);  // [B, t, L, d]
    for (int64_t r = 0; r < b; ++r) {
      const RowJob& j = streams[static_cast<size_t>(start + r)];
      out[static_cast<size_t>(start + r)] = h[r].slice(0, 0, j.answer_tokens() + 1).clone();  // [T_r, L, d]
    }
  }
  return out;
}

std::vector<double> score_rows(Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                               const std::vector<Intervention>& points, const EvalRun& run,
                               const std::vector<RowJob>& jobs, int64_t start, int64_t end, const PrefixCache* prefix,
                               const ChunkStreams* streams) {
  std::vector<const Intervention*> steers;
  for (int64_t r = start; r < end; ++r) steers.push_back(&points[jobs[static_cast<size_t>(r)].point]);
  // Each row steered at its intervention's positions: the last prompt token, or (caa, iti) also
  // every answer token after it, as they would be generated.
  const BatchSteering steering(steers, model);
  const bool shared = jobs[static_cast<size_t>(start)].chunk >= 0;
  if (shared && !prefix) throw_runtime("score_rows: prefix-shared rows without their prompts' cache");
  const int64_t first = shared ? batch_first_layer(jobs, start, end, streams) : 0;
  Prepared p = shared ? prepare_shared(model, jobs, start, end, steering, *prefix, first)
                      : prepare_whole(model, jobs, start, end, steering);
  if (first > 0) {  // layers below `first` are the rows' unsteered ones, run once by clean_streams
    const auto hidden = stream_input(jobs, start, end, *streams, first, p.in.input_ids.size(1));  // [B, T, d]
    const auto logits = steering.forward_from(model, p.in, &p.start->cache, p.at, first, hidden);
    return values_of(logits, tok, items, run, jobs, start, end);
  }
  ForwardOutput out = shared ? steering.forward_with_clean(model, p.in, &p.start->cache, p.at, p.clean)
                             : steering.forward(model, p.in, nullptr, p.at, p.clean_col);
  return values_of(out.logits, tok, items, run, jobs, start, end);
}

}  // namespace sadi
