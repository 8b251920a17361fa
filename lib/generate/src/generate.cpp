#include "sadi/generate/generate.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "sadi/core/interrupt.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/batch.hpp"
#include "sadi/model/decode_graph.hpp"
#include "sadi/steer/steered_forward.hpp"

namespace sadi {
namespace {

// Per-row decoding state: tokens, the text decoded so far (incrementally), why it ended.
struct Row {
  std::vector<int64_t> tokens;
  std::string text;          // decoded incrementally (settled text only)
  size_t prefix_offset = 0;  // tokens[prefix_offset, read_offset) decode to the tail of `text`...
  size_t read_offset = 0;    // ...and tokens from read_offset on are not in `text` yet
  size_t searched = 0;       // stop strings cannot start before this byte of `text`
  size_t streamed = 0;       // bytes of `text` already handed to the stream
  bool done = false;
  std::string stop_reason = "length";
  size_t cut = std::string::npos;  // output ends here when a stop string was found
};

bool ends_in_replacement(const std::string& s) {  // U+FFFD: an incomplete UTF-8 sequence so far
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

// Appends the text of the tokens not yet decoded, decoding only a window that starts one settled
// token back (so a tokenizer's leading-space rule and byte pieces see their context): O(window)
// per token instead of re-decoding the whole output every step. Text that may still be an
// incomplete UTF-8 character waits for the next token.
void decode_new(Row& row, const Tokenizer& tok) {
  const auto begin = row.tokens.begin();
  const std::string before = tok.decode({begin + static_cast<long>(row.prefix_offset), begin + static_cast<long>(row.read_offset)});
  const std::string now = tok.decode({begin + static_cast<long>(row.prefix_offset), row.tokens.end()});
  if (now.size() <= before.size() || ends_in_replacement(now) || now.compare(0, before.size(), before) != 0) return;
  row.text += now.substr(before.size());
  row.prefix_offset = row.read_offset;
  row.read_offset = row.tokens.size();
}

// The first stop string in text[from, ...), or npos.
size_t find_stop(const std::string& text, const std::vector<std::string>& stops, size_t from = 0) {
  size_t best = std::string::npos;
  for (const auto& s : stops) {
    if (s.empty()) continue;
    size_t at = text.find(s, from);
    if (at != std::string::npos) best = std::min(best, at);
  }
  return best;
}

size_t longest(const std::vector<std::string>& stops) {
  size_t n = 0;
  for (const auto& s : stops) n = std::max(n, s.size());
  return n;
}

// Bytes of `text` that can be streamed now: everything except a tail that could still become a
// stop string or is an incomplete UTF-8 sequence.
size_t stream_limit(const std::string& text, size_t hold) {
  size_t n = text.size() > hold ? text.size() - hold : 0;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // not inside a character
  return n;
}

// Each prompt's ids; throws naming the first prompt that leaves no room for max_new_tokens.
std::vector<std::vector<int64_t>> tokenize_prompts(const Tokenizer& tok, const ModelInfo& info,
                                                   const std::vector<Prompt>& prompts, const GenerateOptions& opts) {
  std::vector<std::vector<int64_t>> ids;
  for (const auto& p : prompts) {
    const int64_t least = tokens_at_least(tok, p.text);  // far over the limit: refused before tokenizing
    if (least + opts.max_new_tokens > info.max_positions) {
      throw_input(str("prompt '", p.id, "': at least ", least, " tokens (counted from its ", p.text.size(),
                      " bytes) + max_new_tokens ", opts.max_new_tokens, " exceed the model's maximum of ",
                      info.max_positions, " positions"));
    }
    ids.push_back(tok.encode(p.text, info.tokenizer.add_bos));
    const auto n = static_cast<int64_t>(ids.back().size());
    if (n + opts.max_new_tokens > info.max_positions) {
      throw_input(str("prompt '", p.id, "': ", n, " tokens + max_new_tokens ", opts.max_new_tokens,
                      " exceed the model's maximum of ", info.max_positions, " positions"));
    }
  }
  return ids;
}

// Takes the sampled token t into the row: ends it at EOS (t not kept), at a stop string or at
// the length limit, and hands newly final text to `emit` (when streaming). Returns whether t is
// fed back.
bool advance_row(Row& row, int64_t t, const ModelInfo& info, const Tokenizer& tok, const GenerateOptions& opts,
                 size_t hold, const std::function<void(const std::string&)>& emit, bool streaming) {
  const bool eos = !opts.ignore_eos && std::find(info.eos_ids.begin(), info.eos_ids.end(), t) != info.eos_ids.end();
  if (eos) {
    row.done = true;
    row.stop_reason = "eos";
  } else {
    row.tokens.push_back(t);
  }
  decode_new(row, tok);
  size_t cut = opts.stop.empty() ? std::string::npos : find_stop(row.text, opts.stop, row.searched);
  if (cut != std::string::npos) {
    row.done = true;
    row.stop_reason = "stop";
  } else if (!row.done && static_cast<int64_t>(row.tokens.size()) >= opts.max_new_tokens) {
    row.done = true;
  }
  row.searched = row.text.size() > hold ? row.text.size() - hold : 0;  // a stop may end in later text
  if (row.done) {  // the whole output decoded once: the text returned is exactly decode(tokens)
    row.text = tok.decode(row.tokens);
    if (cut != std::string::npos) cut = find_stop(row.text, opts.stop);
    row.cut = cut;
  }
  const std::string& text = row.text;
  if (streaming) {
    const size_t upto = row.done ? std::min(cut, text.size()) : stream_limit(text, hold);
    if (upto > row.streamed) {
      emit(text.substr(row.streamed, upto - row.streamed));
      row.streamed = upto;
    }
  }
  return !eos;
}

// The cache of a batch whose prompts' K/V (all but the last token) `shared` holds, laid out as
// the left-padded batch would be: row i's prompt ends at the batch's last prompt column.
KvCache start_from_shared(const SharedPrompts& shared, const std::vector<std::vector<int64_t>>& ids,
                          const BatchSteering& steering, int64_t extra) {
  if (!shared.cache || shared.entries.size() != ids.size()) {
    throw_runtime(str("generate_batch: ", shared.entries.size(), " shared prompts for ", ids.size(), " prompts"));
  }
  if (steering.steers_prompt_body()) {
    throw_runtime("generate_batch: rows steered inside the prompt cannot start from a shared prompt prefix");
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto n = static_cast<int64_t>(ids[i].size());
    if (shared.cache->kept(shared.entries[i]) != n - 1) {
      throw_runtime(str("generate_batch: shared prompt ", shared.entries[i], " holds ", shared.cache->kept(shared.entries[i]),
                        " tokens, prompt ", i, " has ", n));
    }
  }
  return shared.cache->start(shared.entries, extra).cache;  // prefixes end at slot width - 1, as left-padded
}

}  // namespace

void GenerateTiming::add(const GenerateTiming& o) {
  prefill_ms += o.prefill_ms;
  decode_ms += o.decode_ms;
  prompt_tokens += o.prompt_tokens;
  decoded_tokens += o.decoded_tokens;
}

namespace {

// Greedy: the argmax is taken where the logits are and only [B] ids reach the host; sampling
// needs the distribution ([B, V] to the host).
torch::Tensor host_choices(const torch::Tensor& dev_logits, const GenerateOptions& opts) {  // [B, V] on the device
  return opts.temperature <= 0.0 ? dev_logits.argmax(-1).to(torch::kCPU) : dev_logits.to(torch::kCPU);
}

// Prefill: each row steered at its intervention's positions (the last prompt token is column
// width - 1 of every left-padded row); from shared prompts, only that column is run. Fills
// `cache` and returns the first choices ([B] ids or [B, V] logits, on the host).
torch::Tensor prefill(Model& model, const PaddedBatch& batch, const std::vector<std::vector<int64_t>>& ids,
                      const BatchSteering& steering, const GenerateOptions& opts, const SharedPrompts* shared,
                      std::optional<KvCache>& cache) {
  const auto b = static_cast<int64_t>(ids.size());
  const int64_t width = batch.width;
  if (shared) {
    cache.emplace(start_from_shared(*shared, ids, steering, 1 + opts.max_new_tokens));
    const int64_t w = width - 1;
    auto at = steering.at(batch.key_mask.slice(1, w), std::vector<int64_t>(static_cast<size_t>(b), 0));  // [B, 1]
    ForwardInput pre{batch.input_ids.slice(1, w), batch.positions.slice(1, w), batch.key_mask, w,
                     torch::zeros({b, 1}, torch::kInt64), nullptr, {}};
    std::map<Site, torch::Tensor> clean;  // clamp: the clean values at the last prompt token
    for (Site s : steering.sites()) {
      if (shared->cache->captures(s)) clean[s] = shared->cache->clean(s, shared->entries);
    }
    return host_choices(steering.forward_with_clean(model, pre, &*cache, at, clean).logits.select(1, 0), opts);
  }
  cache.emplace(model.info(), b, width + opts.max_new_tokens, model.dtype(), model.device());
  auto at = steering.at(batch.key_mask, std::vector<int64_t>(static_cast<size_t>(b), width - 1));  // [B, T]
  auto last = torch::full({b, 1}, width - 1, torch::kInt64);  // [B, 1]
  ForwardInput pre{batch.input_ids, batch.positions, batch.key_mask, 0, last, nullptr, {}};
  return host_choices(steering.forward(model, pre, &*cache, at, last).logits.select(1, 0), opts);
}

// One decode step after another, in the form this batch allows: the fixed-shape step (device
// buffers updated in place, every step the same shapes and addresses; replayed as a CUDA graph
// where available) or one forward per step over the filled cache. Steering on every generated
// token is built once, on the device (none when a decode row is in clamp mode: then each step
// runs the steered forward with its clean pass).
class DecodeStepper {
 public:
  DecodeStepper(Model& model, const PaddedBatch& batch, const BatchSteering& steering, const GenerateOptions& opts)
      : model_(model), steering_(steering), opts_(opts), width_(batch.width) {
    const auto b = static_cast<int64_t>(batch.lengths.size());
    const auto dev = model.device();
    const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(dev);
    key_mask_ = torch::zeros({b, width_ + opts.max_new_tokens}, torch::TensorOptions().dtype(torch::kBool).device(dev));  // [B, capacity]
    key_mask_.slice(1, 0, width_).copy_(batch.key_mask);
    lengths_ = torch::tensor(batch.lengths, torch::kInt64).to(dev).unsqueeze(1);  // [B, 1]
    first_logit_ = torch::zeros({b, 1}, i64);
    every_token_ = steering.steers_decode();  // some row is steered on each generated token
    step_at_ = steering.decode_at();          // [B, 1]
    if (every_token_) step_steering_ = steering.decode_steering(dev);
    const bool graphs = opts.cuda_graphs && dev.is_cuda() && DecodeGraph::available() && model.has_decode_step() &&
                        (!every_token_ || step_steering_);
    fixed_ = graphs || (opts.static_decode && (!every_token_ || step_steering_));
    if (graphs) graph_.emplace(model);
    if (opts.static_decode && !model.has_decode_step()) {
      throw_input(str(model.info().dir.string(), ": this model.ts has no fixed-shape decode step; re-export it with "
                      "scripts/export_hf.py (or decode dynamically)"));
    }
    ids_buf_ = torch::zeros({b, 1}, i64);                     // [B, 1]
    pos_buf_ = lengths_ - 1;                                    // [B, 1], + 1 per step
    slot_buf_ = torch::full({1}, width_ - 1, i64);              // [1]
  }

  // Feeds `next` ([B, 1] ids, CPU) as step `step`'s tokens; returns the next choices (host).
  torch::Tensor step(const torch::Tensor& next, int64_t step, KvCache& cache) {
    const Steering* st = step_steering_ ? &*step_steering_ : nullptr;
    if (fixed_) {
      ids_buf_.copy_(next);
      pos_buf_.add_(1);
      slot_buf_.add_(1);
      key_mask_.index_fill_(1, slot_buf_, true);
      const DecodeStep in{ids_buf_, pos_buf_, key_mask_, slot_buf_, st};
      return host_choices(graph_ ? graph_->step(in, cache) : model_.decode_step(in, cache), opts_);
    }
    const int64_t slot = width_ + step;
    key_mask_.select(1, slot).fill_(true);
    ForwardInput in{next.to(model_.device()), lengths_ + step, key_mask_.slice(1, 0, slot + 1), slot, first_logit_, st,
                    {}};  // positions [B, 1]: each row's next
    auto res = every_token_ && !st ? steering_.forward(model_, in, &cache, step_at_) : model_.forward(in, &cache);
    return host_choices(res.logits.select(1, 0), opts_);
  }

 private:
  Model& model_;
  const BatchSteering& steering_;
  const GenerateOptions& opts_;
  int64_t width_;
  torch::Tensor key_mask_, lengths_, first_logit_, step_at_, ids_buf_, pos_buf_, slot_buf_;
  bool every_token_ = false, fixed_ = false;
  std::optional<Steering> step_steering_;
  std::optional<DecodeGraph> graph_;
};

// Each row's generation: its text cut at a stop string, its ids, prompt length and stop reason.
std::vector<Generation> finish(std::vector<Row>& rows, const Tokenizer& tok, const PaddedBatch& batch) {
  std::vector<Generation> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    Row& row = rows[i];
    std::string text = row.done ? row.text : tok.decode(row.tokens);
    if (row.cut != std::string::npos) text.resize(row.cut);
    out.push_back({text, row.tokens, batch.lengths[i], row.stop_reason});
  }
  return out;
}

}  // namespace

std::vector<Generation> generate_batch(Model& model, const Tokenizer& tok, const std::vector<Prompt>& prompts,
                                       const GenerateOptions& opts, const std::vector<const Intervention*>& steer,
                                       const StreamFn& stream, GenerateTiming* timing, const SharedPrompts* shared) {
  using Clock = std::chrono::steady_clock;
  c10::InferenceMode inference;
  auto ms_since = [](Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); };
  GenerateTiming local;
  const ModelInfo& info = model.info();
  if (prompts.empty()) return {};
  if (opts.max_new_tokens <= 0) throw_field(ErrorKind::kUsage, "max_new_tokens", ": expected a positive integer");
  if (!steer.empty() && steer.size() != prompts.size()) {
    throw_runtime(str("generate_batch: ", steer.size(), " row steerings for ", prompts.size(), " prompts"));
  }
  const BatchSteering steering(steer.empty() ? std::vector<const Intervention*>(prompts.size(), nullptr) : steer, model);
  const std::vector<std::vector<int64_t>> ids = tokenize_prompts(tok, info, prompts, opts);
  const int64_t pad = info.eos_ids.empty() ? 0 : info.eos_ids.front();
  const auto b = static_cast<int64_t>(prompts.size());
  const PaddedBatch batch = left_pad(ids, pad, torch::kCPU);
  const auto t_prefill = Clock::now();
  std::optional<KvCache> cache;
  torch::Tensor logits = prefill(model, batch, ids, steering, opts, shared, cache);  // [B] or [B, V]
  local.prefill_ms = ms_since(t_prefill);
  for (int64_t n : batch.lengths) local.prompt_tokens += n;
  const auto t_decode = Clock::now();

  std::vector<Row> rows(static_cast<size_t>(b));
  std::vector<std::mt19937_64> rngs;
  for (const auto& p : prompts) rngs.emplace_back(opts.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(p.index));
  const size_t hold = opts.stop.empty() ? 0 : longest(opts.stop) - 1;
  DecodeStepper stepper(model, batch, steering, opts);
  for (int64_t step = 0;; ++step) {
    auto next = torch::full({b, 1}, pad, torch::kInt64);  // [B, 1]
    bool all_done = true;
    for (int64_t i = 0; i < b; ++i) {
      Row& row = rows[static_cast<size_t>(i)];
      if (row.done) continue;
      const int64_t t = opts.temperature <= 0.0 ? logits[i].item<int64_t>()  // first max, as sample_token
                                                : sample_token(logits[i], opts, rngs[static_cast<size_t>(i)]);
      if (advance_row(row, t, info, tok, opts, hold, [&](const std::string& text) { stream(static_cast<size_t>(i), text); },
                      static_cast<bool>(stream))) {
        next[i][0] = t;
      }
      all_done = all_done && row.done;
    }
    if (all_done) break;
    if (opts.stop_on_interrupt && interrupted()) {
      throw Interrupted(interrupt_signal(), str("generate interrupted by ", signal_name(interrupt_signal()),
                                                " after ", step + 1, " tokens of this batch; no output file written"));
    }
    logits = stepper.step(next, step, *cache);
    for (const Row& row : rows) local.decoded_tokens += row.done ? 0 : 1;
  }
  local.decode_ms = ms_since(t_decode);
  if (timing) timing->add(local);
  return finish(rows, tok, batch);
}

}  // namespace sadi
