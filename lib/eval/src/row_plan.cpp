#include "row_plan.hpp"

#include <algorithm>
#include <map>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/prefix_cache.hpp"

namespace sadi {
namespace {

// Each item's candidates tokenized once: ids of prompt + separator + candidate, prompt tokens,
// and the window of scored predictions (RowJob::window).
struct Seq {
  std::vector<int64_t> ids;
  int64_t n_prompt = 0;
  int64_t window = 0;
};

// The reference code scores the argmax at positions [-len(tokenizer(answer)), -1) of the whole
// sequence: with the BOS its Llama tokenizers add, the last (tokens of the answer alone)
// predictions. The answer in context can have another count (byte-level BPE: "Paris" alone vs
// " Paris" after the separator).
int64_t answer_window(const Tokenizer& tok, const std::string& answer, int64_t in_context, const EvalRun& run) {
  if (run.metric != Metric::kExactMatch || run.match_rule != MatchRule::kReference) return in_context;
  return static_cast<int64_t>(tok.encode(answer, /*add_bos=*/false).size());
}

std::vector<std::vector<Seq>> tokenize_items(const ModelInfo& info, const Tokenizer& tok,
                                             const std::vector<TaskItem>& items, const EvalRun& run) {
  const bool bos = info.tokenizer.add_bos;
  std::vector<std::vector<Seq>> seqs(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const TaskItem& it = items[i];
    std::vector<std::string> cands = run.metric == Metric::kChoice ? it.choices : std::vector<std::string>{it.answer};
    for (const auto& c : cands) {  // far over the limit: refused from its bytes, before tokenizing
      const std::string whole = it.prompt + run.separator + c;
      const int64_t least = tokens_at_least(tok, whole);
      if (least > info.max_positions) {
        throw_input(str("item '", it.id, "' (line ", it.line, "): at least ", least, " tokens (counted from its ",
                        whole.size(), " bytes) exceed the model's maximum of ", info.max_positions));
      }
    }
    const auto n_prompt = static_cast<int64_t>(tok.encode(it.prompt, bos).size());
    if (run.metric == Metric::kChoice && cands.empty()) {
      throw_input(str("item '", it.id, "' (line ", it.line, "): the choice metric needs \"choices\""));
    }
    for (const auto& c : cands) {
      auto ids = tok.encode(it.prompt + run.separator + c, bos);
      if (n_prompt == 0) {
        throw_input(str("item '", it.id, "' (line ", it.line, "): the prompt has no token (and the model adds no BOS), "
                        "so nothing predicts the answer's first token"));
      }
      if (static_cast<int64_t>(ids.size()) <= n_prompt) {
        throw_input(str("item '", it.id, "' (line ", it.line, "): the answer \"", c, "\" adds no token after the prompt"));
      }
      if (static_cast<int64_t>(ids.size()) > info.max_positions) {
        throw_input(str("item '", it.id, "' (line ", it.line, "): ", ids.size(), " tokens exceed the model's maximum of ",
                        info.max_positions));
      }
      const int64_t in_context = static_cast<int64_t>(ids.size()) - n_prompt;
      const int64_t window = answer_window(tok, c, in_context, run);
      if (window >= static_cast<int64_t>(ids.size())) {
        throw_input(str("item '", it.id, "' (line ", it.line, "): the answer alone has ", window, " tokens, as many as ",
                        "the whole sequence: the reference window reaches before its first token"));
      }
      seqs[i].push_back({std::move(ids), n_prompt, window});
    }
  }
  return seqs;
}

// Layer sharing: each chunk's distinct rows (the same ids start from the same prompt), in run order.
void lay_out_streams(std::vector<RowJob>& shared, RowPlan& plan) {
  plan.streams.assign(plan.prompts.size(), {});
  std::map<std::pair<int64_t, std::vector<int64_t>>, int64_t> index;  // (chunk, ids) -> stream
  for (RowJob& j : shared) {
    auto& streams = plan.streams[static_cast<size_t>(j.chunk)];
    auto [it, added] = index.emplace(std::make_pair(j.chunk, j.ids), static_cast<int64_t>(streams.size()));
    if (added) streams.push_back(j);
    j.stream = it->second;
  }
}

// Shared rows: each distinct prompt (the row's first n_prompt ids) once, prompts in order of
// length, chunked to the budget; rows chunk by chunk, by (answer length, prompt length) within,
// and with layer sharing by the first layer they edit (a batch runs from its lowest).
void lay_out_shared(std::vector<RowJob>& shared, const Model& model, const EvalRun& run, bool layer_rows, RowPlan& plan) {
  std::vector<const std::vector<int64_t>*> rows;
  std::vector<int64_t> n_prompt;
  for (const RowJob& j : shared) {
    rows.push_back(&j.ids);
    n_prompt.push_back(j.n_prompt);
  }
  std::vector<size_t> prompt_of;
  const auto distinct = distinct_prompts(rows, n_prompt, prompt_of);
  std::vector<size_t> order(distinct.size());  // distinct prompts by length (stable)
  for (size_t p = 0; p < order.size(); ++p) order[p] = p;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return distinct[a].size() < distinct[b].size(); });
  std::vector<int64_t> kept;
  for (size_t p : order) kept.push_back(static_cast<int64_t>(distinct[p].size()) - 1);
  const auto chunk = PrefixCache::chunks(kept, PrefixCache::bytes_per_token(model.info(), model.dtype()), run.prefix_cache_bytes);
  std::vector<std::pair<int64_t, size_t>> place(distinct.size());  // distinct prompt -> (chunk, entry)
  for (size_t k = 0; k < order.size(); ++k) {
    const auto c = static_cast<size_t>(chunk[k]);
    if (plan.prompts.size() <= c) plan.prompts.resize(c + 1);
    place[order[k]] = {chunk[k], plan.prompts[c].size()};
    plan.prompts[c].push_back(distinct[order[k]]);
  }
  for (size_t r = 0; r < shared.size(); ++r) {
    RowJob& j = shared[r];
    std::tie(j.chunk, j.entry) = place[prompt_of[r]];
    j.key = (j.answer_tokens() + 1) * (int64_t{1} << 32) + j.n_prompt - 1;  // (tokens run, tokens kept)
  }
  // (not worth the pass over each distinct row when every row starts at layer 0: clamp grids)
  const bool layers = layer_rows && shares_layers(model, run) &&
                      std::any_of(shared.begin(), shared.end(), [](const RowJob& j) { return j.first_layer > 0; });
  std::stable_sort(shared.begin(), shared.end(), [layers](const RowJob& a, const RowJob& b) {
    if (a.chunk != b.chunk) return a.chunk < b.chunk;
    if (a.key != b.key || !layers) return a.key < b.key;
    return a.first_layer < b.first_layer;
  });
  if (layers) lay_out_streams(shared, plan);
}

}  // namespace

int64_t first_edited_layer(const Intervention& point, int64_t n_layers) {
  if (!point.steers()) return n_layers;
  if (point.mode == Mode::kClamp) return 0;
  return point.layers.empty() ? n_layers : point.layers.front();
}

bool shares_layers(const Model& model, const EvalRun& run) {
  return run.prefix_sharing && run.layer_sharing && model.has_forward_from();
}

bool shares_prefix(const Intervention& point) {
  return !point.steers() || point.positions == Positions::kPromptLast || point.positions == Positions::kFromPromptLast;
}

namespace {

// Shared rows chunk by chunk, then whole rows by length.
// layer_rows: scored rows, which may share layers (generation rows do not).
RowPlan finish_plan(std::vector<RowJob> shared, std::vector<RowJob> whole, const Model& model, const EvalRun& run,
                    std::vector<size_t> n_cands, bool layer_rows) {
  RowPlan plan;
  plan.n_cands = std::move(n_cands);
  lay_out_shared(shared, model, run, layer_rows, plan);
  std::stable_sort(whole.begin(), whole.end(), [](const RowJob& a, const RowJob& b) { return a.ids.size() < b.ids.size(); });
  plan.jobs = std::move(shared);
  plan.jobs.insert(plan.jobs.end(), std::make_move_iterator(whole.begin()), std::make_move_iterator(whole.end()));
  return plan;
}

RowJob make_job(size_t item, size_t point, size_t choice, std::vector<int64_t> ids, int64_t n_prompt, int64_t window) {
  RowJob j;
  j.item = item;
  j.point = point;
  j.choice = choice;
  j.ids = std::move(ids);
  j.n_prompt = n_prompt;
  j.window = window;
  j.key = static_cast<int64_t>(j.ids.size());
  return j;
}

}  // namespace

RowPlan plan_rows(const Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                  const std::vector<Intervention>& points, const EvalRun& run) {
  const auto seqs = tokenize_items(model.info(), tok, items, run);
  std::vector<RowJob> shared, whole;
  std::vector<size_t> n_cands;
  int64_t differs = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    n_cands.push_back(seqs[i].size());
    const Seq& first = seqs[i].front();
    differs += first.window != static_cast<int64_t>(first.ids.size()) - first.n_prompt;
    for (size_t p = 0; p < points.size(); ++p) {
      for (const Seq& s : seqs[i]) {
        RowJob j = make_job(i, p, static_cast<size_t>(&s - seqs[i].data()), s.ids, s.n_prompt, s.window);
        j.first_layer = first_edited_layer(points[p], model.info().n_layers);
        // a window reaching into the prompt needs logits the shared prefix does not keep
        const bool share = run.prefix_sharing && shares_prefix(points[p]) && j.logits_from() == j.n_prompt - 1;
        (share ? shared : whole).push_back(std::move(j));
      }
    }
  }
  RowPlan plan = finish_plan(std::move(shared), std::move(whole), model, run, std::move(n_cands), true);
  plan.window_differs = differs;
  return plan;
}

RowPlan plan_generation_rows(const Model& model, const Tokenizer& tok, const std::vector<TaskItem>& items,
                             const std::vector<Intervention>& points, const EvalRun& run) {
  std::vector<RowJob> shared, whole;
  for (size_t i = 0; i < items.size(); ++i) {
    auto ids = tok.encode(items[i].prompt, model.info().tokenizer.add_bos);
    if (ids.empty()) {
      throw_input(str("item '", items[i].id, "' (line ", items[i].line, "): the prompt has no token (and the model adds no "
                      "BOS), so there is nothing to generate from"));
    }
    const auto n = static_cast<int64_t>(ids.size());
    for (size_t p = 0; p < points.size(); ++p) {
      auto& dest = run.prefix_sharing && shares_prefix(points[p]) ? shared : whole;
      dest.push_back(make_job(i, p, 0, ids, n, 0));
    }
  }
  return finish_plan(std::move(shared), std::move(whole), model, run, std::vector<size_t>(items.size(), 1), false);
}

int64_t batch_end(const std::vector<RowJob>& jobs, int64_t start, int64_t batch_size, bool invariant) {
  const auto total = static_cast<int64_t>(jobs.size());
  const RowJob& first = jobs[static_cast<size_t>(start)];
  const int64_t end = std::min(total, start + batch_size);
  for (int64_t r = start + 1; r < end; ++r) {
    const RowJob& j = jobs[static_cast<size_t>(r)];
    if (j.chunk != first.chunk || (invariant && j.key != first.key)) return r;
  }
  return end;
}

}  // namespace sadi
