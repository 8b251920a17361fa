#include "sadi/eval/eval.hpp"

#include <algorithm>
#include <chrono>
#include <random>

#include "sadi/core/error.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/eval/scoring.hpp"
#include "sadi/generate/generate.hpp"
#include "sadi/model/batch.hpp"
#include "sadi/steer/steered_forward.hpp"

namespace sadi {
namespace {

// One forward row: an item, a configuration and (choice metric) one candidate answer.
struct RowJob {
  size_t item;
  size_t point;
  size_t choice;                // index into choices (choice metric), else 0
  std::vector<int64_t> ids;     // prompt + separator + answer
  int64_t n_prompt;             // tokens of the prompt alone
};

// Where the batch starting at row `start` ends: at most batch_size rows and, for a batch-invariant
// model, only rows of the same length (`length(r)`), so that no row is padded.
template <typename Length>
int64_t batch_end(int64_t start, int64_t total, int64_t batch_size, bool same_length, Length length) {
  int64_t end = std::min(total, start + batch_size);
  if (same_length) {
    for (int64_t r = start + 1; r < end; ++r) {
      if (length(r) != length(start)) return r;
    }
  }
  return end;
}

// Checks a checkpoint against this run and sizes it; returns the first row still to run.
// `ends(start)` is this run's batch_end.
template <typename Ends>
int64_t begin_checkpoint(RowCheckpoint& ck, int64_t total, int64_t batch_size, bool texts, Ends ends) {
  if (ck.rows_done == 0) {
    ck = RowCheckpoint{};
    ck.rows_total = total;
    return 0;
  }
  if (ck.rows_total != total) {
    throw_input(str("resume: the partial result has ", ck.rows_total, " rows for this split, this run has ", total,
                    " (different items, grid or tokenizer)"));
  }
  const auto have = static_cast<int64_t>(texts ? ck.texts.size() : ck.values.size());
  int64_t boundary = 0;
  while (boundary < ck.rows_done && boundary < total) boundary = ends(boundary);
  if (ck.rows_done < 0 || ck.rows_done > total || have != ck.rows_done || boundary != ck.rows_done) {
    throw_input(str("resume: the partial result's rows_done ", ck.rows_done, " does not fit this run (", total,
                    " rows in batches of ", batch_size, ", ", have, " values)"));
  }
  return ck.rows_done;
}

}  // namespace

Metric parse_metric(const std::string& s) {
  if (s == "exact-match") return Metric::kExactMatch;
  if (s == "choice") return Metric::kChoice;
  if (s == "generate-em") return Metric::kGenerateEm;
  throw_usage(str("--metric: expected exact-match, choice or generate-em, found '", s, "'"));
}

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::kExactMatch: return "exact-match";
    case Metric::kChoice: return "choice";
    case Metric::kGenerateEm: return "generate-em";
  }
  return "?";
}

double accuracy(const std::vector<uint8_t>& correct) {
  if (correct.empty()) return 0;
  double s = 0;
  for (auto c : correct) s += c;
  return s / static_cast<double>(correct.size());
}

Interval bootstrap_interval(const std::vector<uint8_t>& correct, uint64_t seed, int resamples) {
  if (correct.empty()) return {};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, correct.size() - 1);
  std::vector<double> accs;
  for (int r = 0; r < resamples; ++r) {
    size_t hits = 0;
    for (size_t i = 0; i < correct.size(); ++i) hits += correct[pick(rng)];
    accs.push_back(static_cast<double>(hits) / static_cast<double>(correct.size()));
  }
  std::sort(accs.begin(), accs.end());
  auto at = [&](double q) { return accs[static_cast<size_t>(q * (resamples - 1))]; };
  return {at(0.025), at(0.975)};
}

namespace {

// generate-em: every (item, point) is one greedy generation row; rows of similar prompt length
// share a batch whatever their steering.
std::vector<PointScore> evaluate_generate(Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                                          const std::vector<Intervention>& points, const EvalRun& run,
                                          const EvalProgress& progress, RowCheckpoint& ck) {
  std::vector<std::pair<size_t, size_t>> jobs;  // (item, point)
  for (size_t i = 0; i < items.size(); ++i) {
    for (size_t p = 0; p < points.size(); ++p) jobs.emplace_back(i, p);
  }
  // Group by prompt length: in tokens for a batch-invariant model (a batch holds one length, no
  // padding), else in bytes (generate_batch tokenizes and checks each prompt itself).
  const bool invariant = model.batch_invariant();
  std::vector<size_t> length(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    length[i] = invariant ? tok.encode(items[i].prompt, model.info().tokenizer.add_bos).size() : items[i].prompt.size();
  }
  std::stable_sort(jobs.begin(), jobs.end(),
                   [&](const auto& a, const auto& b) { return length[a.first] < length[b.first]; });
  auto ends = [&](int64_t start) {
    return batch_end(start, static_cast<int64_t>(jobs.size()), run.batch_size, invariant,
                     [&](int64_t r) { return length[jobs[static_cast<size_t>(r)].first]; });
  };
  std::vector<PointScore> scores(points.size());
  for (auto& s : scores) {
    s.correct.assign(items.size(), 0);
    s.predictions.assign(items.size(), "");
  }
  GenerateOptions opts;
  opts.max_new_tokens = run.max_new_tokens;
  opts.stop = run.stop;
  const auto t0 = std::chrono::steady_clock::now();
  const auto total = static_cast<int64_t>(jobs.size());
  auto record = [&](int64_t r, const std::string& text) {
    const auto [i, p] = jobs[static_cast<size_t>(r)];
    std::vector<std::string> golds{items[i].answer};
    golds.insert(golds.end(), items[i].aliases.begin(), items[i].aliases.end());
    scores[p].predictions[i] = text;
    scores[p].correct[i] = triviaqa_match(text, golds) ? 1 : 0;
  };
  const int64_t first = begin_checkpoint(ck, total, run.batch_size, /*texts=*/true, ends);
  for (int64_t r = 0; r < first; ++r) record(r, ck.texts[static_cast<size_t>(r)]);
  torch::NoGradGuard no_grad;
  for (int64_t start = first, end = 0; start < total && !interrupted(); start = end) {
    end = ends(start);
    std::vector<Prompt> prompts;
    std::vector<const Intervention*> steer;
    for (int64_t r = start; r < end; ++r) {
      const auto [i, p] = jobs[static_cast<size_t>(r)];
      prompts.push_back({items[i].id, items[i].prompt, static_cast<int64_t>(i)});
      steer.push_back(&points[p]);
    }
    const auto gens = generate_batch(model, tok, prompts, opts, steer);
    for (int64_t r = start; r < end; ++r) {
      const std::string& text = gens[static_cast<size_t>(r - start)].output;
      record(r, text);
      ck.texts.push_back(text);
    }
    ck.rows_done = end;
    if (progress) progress(end, total);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& s : scores) s.seconds = secs / static_cast<double>(points.size());
  return scores;
}

// Tokenizes each (item, candidate) once and makes one row per (item, point, candidate), sorted
// by length (stable: deterministic). n_cands[i]: item i's candidates.
std::vector<RowJob> make_rows(const ModelInfo& info, const Tokenizer& tok, const std::vector<TaskItem>& items,
                              size_t n_points, const EvalRun& run, std::vector<size_t>& n_cands) {
  const bool bos = info.tokenizer.add_bos;
  // Tokenize each (item, candidate) once; rows for every point share it.
  std::vector<std::vector<std::pair<std::vector<int64_t>, int64_t>>> seqs(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const TaskItem& it = items[i];
    const auto n_prompt = static_cast<int64_t>(tok.encode(it.prompt, bos).size());
    std::vector<std::string> cands = run.metric == Metric::kChoice ? it.choices : std::vector<std::string>{it.answer};
    if (run.metric == Metric::kChoice && cands.empty()) {
      throw_input(str("item '", it.id, "' (line ", it.line, "): --metric choice needs \"choices\""));
    }
    for (const auto& c : cands) {
      auto ids = tok.encode(it.prompt + run.separator + c, bos);
      if (static_cast<int64_t>(ids.size()) <= n_prompt) {
        throw_input(str("item '", it.id, "' (line ", it.line, "): the answer \"", c, "\" adds no token after the prompt"));
      }
      if (static_cast<int64_t>(ids.size()) > info.max_positions) {
        throw_input(str("item '", it.id, "' (line ", it.line, "): ", ids.size(), " tokens exceed the model's maximum of ",
                        info.max_positions));
      }
      seqs[i].emplace_back(std::move(ids), n_prompt);
    }
  }
  std::vector<RowJob> jobs;
  for (size_t i = 0; i < items.size(); ++i) {
    n_cands.push_back(seqs[i].size());
    for (size_t p = 0; p < n_points; ++p) {
      for (size_t c = 0; c < seqs[i].size(); ++c) jobs.push_back({i, p, c, seqs[i][c].first, seqs[i][c].second});
    }
  }
  std::stable_sort(jobs.begin(), jobs.end(), [](const RowJob& a, const RowJob& b) { return a.ids.size() < b.ids.size(); });
  return jobs;
}

// Scores rows [start, end) in one steered forward: exact-match 1/0 (the greedy answer equals
// the reference), choice the summed log-probability of the candidate's tokens.
std::vector<double> score_batch(Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                                const std::vector<Intervention>& points, const EvalRun& run,
                                const std::vector<RowJob>& jobs, int64_t start, int64_t end) {
  std::vector<double> values;
  const int64_t b = end - start;
  std::vector<std::vector<int64_t>> rows;
  std::vector<const Intervention*> steers;
  for (int64_t r = start; r < end; ++r) {
    rows.push_back(jobs[static_cast<size_t>(r)].ids);
    steers.push_back(&points[jobs[static_cast<size_t>(r)].point]);
  }
  auto batch = left_pad(rows, 0, torch::kCPU);
  int64_t n_max = 0;
  for (int64_t r = 0; r < b; ++r) {
    const auto& j = jobs[static_cast<size_t>(start + r)];
    n_max = std::max<int64_t>(n_max, static_cast<int64_t>(j.ids.size()) - j.n_prompt);
  }
  std::vector<int64_t> last_col(static_cast<size_t>(b));         // the last prompt token's column
  auto prompt_last = torch::zeros({b, 1}, torch::kInt64);         // [B, 1]
  auto logits_at = torch::zeros({b, n_max}, torch::kInt64);       // [B, N] positions predicting answer tokens
  for (int64_t r = 0; r < b; ++r) {
    const auto& j = jobs[static_cast<size_t>(start + r)];
    const int64_t last = batch.column(static_cast<size_t>(r), j.n_prompt - 1);
    last_col[static_cast<size_t>(r)] = last;
    prompt_last[r][0] = last;
    const int64_t n_ans = static_cast<int64_t>(j.ids.size()) - j.n_prompt;
    for (int64_t k = 0; k < n_max; ++k) logits_at[r][k] = last + std::min(k, n_ans - 1);
  }
  ForwardInput in{batch.input_ids, batch.positions, batch.key_mask, 0, logits_at, nullptr, {}};
  // Each row steered at its intervention's positions: the last prompt token, or (caa, iti)
  // also every answer token after it, as they would be generated.
  const BatchSteering steering(steers, model);
  auto at = steering.at(batch.key_mask, last_col);  // [B, T]
  // Scored where the logits are (the model's device): the host receives [B, N] values, not [B, N, V].
  auto logits = steering.forward(model, in, nullptr, at, prompt_last).logits;  // [B, N, V] float32, device
  if (run.metric == Metric::kExactMatch) {
    auto pred_t = logits.argmax(-1).to(torch::kCPU);  // [B, N] greedy ids
    auto pred = pred_t.accessor<int64_t, 2>();
    for (int64_t r = 0; r < b; ++r) {
      const auto& j = jobs[static_cast<size_t>(start + r)];
      const int64_t n_ans = static_cast<int64_t>(j.ids.size()) - j.n_prompt;
      std::vector<int64_t> ids;
      for (int64_t k = 0; k < n_ans; ++k) ids.push_back(pred[r][k]);
      const double v = exact_match(tok.decode(ids), items[j.item].answer, run.match_rule) ? 1 : 0;
      values.push_back(v);
    }
  } else {
    auto targets = torch::zeros({b, n_max}, torch::kInt64);  // [B, N] answer token ids (0 past a row's answer)
    for (int64_t r = 0; r < b; ++r) {
      const auto& j = jobs[static_cast<size_t>(start + r)];
      for (int64_t k = 0; k < static_cast<int64_t>(j.ids.size()) - j.n_prompt; ++k) {
        targets[r][k] = j.ids[static_cast<size_t>(j.n_prompt + k)];
      }
    }
    auto logp_t = torch::log_softmax(logits, -1)
                      .gather(-1, targets.to(logits.device()).unsqueeze(-1))
                      .squeeze(-1)
                      .to(torch::kCPU);  // [B, N] log p(answer token)
    auto logp = logp_t.accessor<float, 2>();
    for (int64_t r = 0; r < b; ++r) {
      const auto& j = jobs[static_cast<size_t>(start + r)];
      const int64_t n_ans = static_cast<int64_t>(j.ids.size()) - j.n_prompt;
      double sum = 0;
      for (int64_t k = 0; k < n_ans; ++k) sum += logp[r][k];
      values.push_back(sum);
    }
  }
  return values;
}

// Choice metric: the candidate with the highest (length-normalised) log-likelihood is the answer.
void finish_choice(const std::vector<TaskItem>& items, const std::vector<std::vector<std::vector<double>>>& ll,
                   const std::vector<std::vector<std::vector<double>>>& ll_norm, std::vector<PointScore>& scores) {
  for (size_t p = 0; p < scores.size(); ++p) {
    scores[p].correct_norm.assign(items.size(), 0);
    scores[p].loglik = ll[p];
    for (size_t i = 0; i < items.size(); ++i) {
      const auto gold = static_cast<size_t>(
          std::find(items[i].choices.begin(), items[i].choices.end(), items[i].answer) - items[i].choices.begin());
      auto best = [](const std::vector<double>& v) {
        return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());  // first max
      };
      scores[p].correct[i] = best(ll[p][i]) == gold;
      scores[p].correct_norm[i] = best(ll_norm[p][i]) == gold;
    }
  }
}

}  // namespace

std::vector<PointScore> evaluate(Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                                 const std::vector<Intervention>& points, const EvalRun& run,
                                 const EvalProgress& progress, RowCheckpoint* checkpoint) {
  const ModelInfo& info = model.info();
  if (run.batch_size <= 0) throw_usage("--batch-size: expected a positive integer");
  RowCheckpoint local;
  RowCheckpoint& ck = checkpoint ? *checkpoint : local;
  if (run.metric == Metric::kGenerateEm) return evaluate_generate(model, tok, items, points, run, progress, ck);
  std::vector<size_t> n_cands;
  const std::vector<RowJob> jobs = make_rows(info, tok, items, points.size(), run, n_cands);
  // loglik[point][item][choice] (choice metric), predicted-correct flags (exact match)
  std::vector<std::vector<std::vector<double>>> ll(points.size(), std::vector<std::vector<double>>(items.size()));
  std::vector<std::vector<std::vector<double>>> ll_norm = ll;
  std::vector<PointScore> scores(points.size());
  for (auto& s : scores) s.correct.assign(items.size(), 0);
  for (size_t p = 0; p < points.size(); ++p) {
    for (size_t i = 0; i < items.size(); ++i) {
      ll[p][i].assign(n_cands[i], 0.0);
      ll_norm[p][i].assign(n_cands[i], 0.0);
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto total = static_cast<int64_t>(jobs.size());
  // One row's value: exact-match 1/0 (the greedy answer equals the reference), choice the summed
  // log-probability of the candidate's tokens.
  auto record = [&](int64_t r, double value) {
    const auto& j = jobs[static_cast<size_t>(r)];
    if (run.metric == Metric::kExactMatch) {
      scores[j.point].correct[j.item] = value != 0 ? 1 : 0;
    } else {
      const auto n_ans = static_cast<double>(static_cast<int64_t>(j.ids.size()) - j.n_prompt);
      ll[j.point][j.item][j.choice] = value;
      ll_norm[j.point][j.item][j.choice] = value / n_ans;
    }
  };
  auto ends = [&](int64_t start) {
    return batch_end(start, total, run.batch_size, model.batch_invariant(),
                     [&](int64_t r) { return jobs[static_cast<size_t>(r)].ids.size(); });
  };
  const int64_t first = begin_checkpoint(ck, total, run.batch_size, /*texts=*/false, ends);
  for (int64_t r = 0; r < first; ++r) record(r, ck.values[static_cast<size_t>(r)]);
  torch::NoGradGuard no_grad;
  for (int64_t start = first, end = 0; start < total && !interrupted(); start = end) {
    end = ends(start);
    const auto values = score_batch(model, tok, items, points, run, jobs, start, end);
    for (int64_t r = start; r < end; ++r) record(r, values[static_cast<size_t>(r - start)]);
    ck.values.insert(ck.values.end(), values.begin(), values.end());
    ck.rows_done = end;
    if (progress) progress(end, total);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& s : scores) s.seconds = secs / static_cast<double>(points.size());
  if (run.metric == Metric::kChoice) finish_choice(items, ll, ll_norm, scores);
  return scores;
}


}  // namespace sadi
