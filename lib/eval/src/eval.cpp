#include "sadi/eval/eval.hpp"

#include <algorithm>
#include <chrono>
#include <random>

#include "sadi/core/context.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/named.hpp"
#include "sadi/core/strings.hpp"
#include "row_plan.hpp"
#include "score_rows.hpp"
#include "sadi/eval/scoring.hpp"
#include "sadi/generate/generate.hpp"
#include "sadi/model/batch.hpp"
#include "sadi/steer/steered_forward.hpp"

namespace sadi {
namespace {

constexpr Named<Metric> kMetrics[] = {{Metric::kExactMatch, "exact-match"}, {Metric::kChoice, "choice"},
                                      {Metric::kGenerateEm, "generate-em"}};

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

Metric parse_metric(const std::string& s) { return parse_named(kMetrics, s, "metric"); }
const char* metric_name(Metric m) { return name_of(kMetrics, m); }

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

// The sites whose values at the last prompt token a clamp batch reads: with any clamp point,
// every steered site (a batch's live rows of another site take part in the clamp pass too).
std::vector<Site> clamp_sites(const std::vector<Intervention>& points) {
  const bool any_clamp = std::any_of(points.begin(), points.end(),
                                     [](const Intervention& p) { return p.steers() && p.mode == Mode::kClamp; });
  std::vector<Site> sites;
  for (const auto& p : points) {
    if (any_clamp && p.steers() && std::find(sites.begin(), sites.end(), p.site) == sites.end()) sites.push_back(p.site);
  }
  return sites;
}

// Holds the prompts of the chunk the batch at `row` starts from (nothing for whole rows) and,
// with layer sharing, that chunk's clean streams.
class ChunkPrompts {
 public:
  ChunkPrompts(Model& model, const RowPlan& plan, const std::vector<Intervention>& points, int64_t batch_size)
      : model_(model), plan_(plan), cache_(model, clamp_sites(points)), batch_size_(batch_size) {}
  const PrefixCache& at(int64_t row) {
    const int64_t chunk = plan_.jobs[static_cast<size_t>(row)].chunk;
    if (chunk >= 0 && chunk != filled_) {
      const auto& prompts = plan_.prompts[static_cast<size_t>(chunk)];
      cache_.fill(prompts, batch_size_);
      int64_t total = 0;
      for (const auto& p : prompts) total += static_cast<int64_t>(p.size());
      log::debug(str("eval: prompt pass of chunk ", chunk, ": ", prompts.size(), " prompts, ", cache_.tokens_run(), " of their ",
                     total, " tokens run (the rest in blocks they share)"));
      streams_.clear();
      if (!plan_.streams.empty()) streams_ = clean_streams(model_, plan_.streams[static_cast<size_t>(chunk)], batch_size_, cache_);
      filled_ = chunk;
    }
    return cache_;
  }
  // The streams of the chunk at() last filled (empty without layer sharing).
  const ChunkStreams& streams() const { return streams_; }

 private:
  Model& model_;
  const RowPlan& plan_;
  PrefixCache cache_;
  int64_t batch_size_;
  int64_t filled_ = -1;
  ChunkStreams streams_;
};

void log_plan(const RowPlan& plan) {
  size_t shared = 0, prompts = 0;
  for (const auto& j : plan.jobs) shared += j.chunk >= 0 ? 1 : 0;
  for (const auto& c : plan.prompts) prompts += c.size();
  size_t streams = 0;
  for (const auto& c : plan.streams) streams += c.size();
  log::debug(str("eval: ", plan.jobs.size(), " rows; ", shared, " start from ", prompts, " shared prompts in ",
                 plan.prompts.size(), " chunk(s)", plan.streams.empty() ? std::string() : str("; layers shared by ", streams,
                 " distinct rows")));
  if (plan.window_differs > 0) {
    log::warn(str("eval: for ", plan.window_differs, " of ", plan.n_cands.size(), " items the answer has another number of "
                  "tokens alone than after the prompt; --em-rule reference scores the predictions of as many last "
                  "tokens as the answer has alone, as the reference code does (docs/eval.md, 'answer window')"));
  }
}

// generate-em: every (item, point) is one greedy generation row; rows share a batch whatever
// their steering (a batch-invariant model: prompts of one token length, no padding).
std::vector<PointScore> evaluate_generate(Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                                          const std::vector<Intervention>& points, const EvalRun& run,
                                          const EvalProgress& progress, RowCheckpoint& ck) {
  const RowPlan plan = plan_generation_rows(model, tok, items, points, run);
  const std::vector<RowJob>& jobs = plan.jobs;
  log_plan(plan);
  auto ends = [&](int64_t start) { return batch_end(jobs, start, run.batch_size, model.batch_invariant()); };
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
    const RowJob& j = jobs[static_cast<size_t>(r)];
    std::vector<std::string> golds{items[j.item].answer};
    golds.insert(golds.end(), items[j.item].aliases.begin(), items[j.item].aliases.end());
    scores[j.point].predictions[j.item] = text;
    scores[j.point].correct[j.item] = triviaqa_match(text, golds) ? 1 : 0;
  };
  const int64_t first = begin_checkpoint(ck, total, run.batch_size, /*texts=*/true, ends);
  for (int64_t r = 0; r < first; ++r) record(r, ck.texts[static_cast<size_t>(r)]);
  ChunkPrompts chunks(model, plan, points, run.batch_size);
  c10::InferenceMode inference;
  for (int64_t start = first, end = 0; start < total && !interrupted(); start = end) {
    end = ends(start);
    std::vector<Prompt> prompts;
    std::vector<const Intervention*> steer;
    SharedPrompts shared{&chunks.at(start), {}};
    for (int64_t r = start; r < end; ++r) {
      const RowJob& j = jobs[static_cast<size_t>(r)];
      prompts.push_back({items[j.item].id, items[j.item].prompt, static_cast<int64_t>(j.item)});
      steer.push_back(&points[j.point]);
      shared.entries.push_back(j.entry);
    }
    const bool from_shared = jobs[static_cast<size_t>(start)].chunk >= 0;
    const auto gens = generate_batch(model, tok, prompts, opts, steer, {}, nullptr, from_shared ? &shared : nullptr);
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
  if (run.batch_size <= 0) throw_field(ErrorKind::kUsage, "batch_size", ": expected a positive integer");
  RowCheckpoint local;
  RowCheckpoint& ck = checkpoint ? *checkpoint : local;
  if (run.metric == Metric::kGenerateEm) return evaluate_generate(model, tok, items, points, run, progress, ck);
  const RowPlan plan = plan_rows(model, tok, items, points, run);
  const std::vector<RowJob>& jobs = plan.jobs;
  const std::vector<size_t>& n_cands = plan.n_cands;
  log_plan(plan);
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
      ll[j.point][j.item][j.choice] = value;
      ll_norm[j.point][j.item][j.choice] = value / static_cast<double>(j.answer_tokens());
    }
  };
  auto ends = [&](int64_t start) { return batch_end(jobs, start, run.batch_size, model.batch_invariant()); };
  const int64_t first = begin_checkpoint(ck, total, run.batch_size, /*texts=*/false, ends);
  for (int64_t r = 0; r < first; ++r) record(r, ck.values[static_cast<size_t>(r)]);
  // Shared rows start from their prompts' K/V, held one chunk of prompts at a time.
  ChunkPrompts chunks(model, plan, points, run.batch_size);
  c10::InferenceMode inference;
  for (int64_t start = first, end = 0; start < total && !interrupted(); start = end) {
    end = ends(start);
    const PrefixCache& prefix = chunks.at(start);
    const auto values = score_rows(model, tok, items, points, run, jobs, start, end, &prefix, &chunks.streams());
    for (int64_t r = start; r < end; ++r) record(r, values[static_cast<size_t>(r - start)]);
    ck.values.insert(ck.values.end(), values.begin(), values.end());
    ck.rows_done = end;
    if (progress) progress(end, total);
    pause_point("eval-batch");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& s : scores) s.seconds = secs / static_cast<double>(points.size());
  if (run.metric == Metric::kChoice) finish_choice(items, ll, ll_norm, scores);
  return scores;
}


}  // namespace sadi
