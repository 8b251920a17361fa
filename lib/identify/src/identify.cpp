#include "sadi/identify/identify.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include "sadi/core/error.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/named.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/identify/evidence.hpp"
#include "sadi/model/batch.hpp"
#include "sadi/model/prefix_cache.hpp"

namespace sadi {
namespace {

constexpr Named<ReadPosition> kReadPositions[] = {{ReadPosition::kAnswerLast, "answer-last"},
                                                  {ReadPosition::kPromptLast, "prompt-last"}};
constexpr Named<RankRule> kRankRules[] = {{RankRule::kSigned, "signed"}, {RankRule::kAbs, "abs"}};

// Running mean and sum of squared deviations (Welford), one pair at a time in pair order and in
// float64 on the model's device: memory does not grow with the number of pairs, and the result
// does not depend on how pairs were batched (docs/determinism.md).
struct Running {
  int64_t n = 0;
  torch::Tensor mean;  // [L, U] float64
  torch::Tensor m2;    // [L, U] float64

  void add(const torch::Tensor& d) {  // d [b, L, U]
    auto dd = d.to(torch::kFloat64);
    for (int64_t r = 0; r < dd.size(0); ++r) {
      auto x = dd[r];
      if (n == 0) {
        mean = torch::zeros_like(x);
        m2 = torch::zeros_like(x);
      }
      ++n;
      auto delta = x - mean;
      mean = mean + delta / static_cast<double>(n);
      m2 = m2 + delta * (x - mean);
    }
  }
};

// Row-by-row sum in float64 (same reason as Running).
void add_rows(torch::Tensor& sum, const torch::Tensor& d) {  // d [b, ...]
  auto dd = d.to(torch::kFloat64);
  for (int64_t r = 0; r < dd.size(0); ++r) sum = sum.defined() ? sum + dd[r] : dd[r].clone();
}

// Puts one forward's captures (rows g of `total`, read at one position) into out:
// {site: [total, L, U] float32}.
void place_rows(std::map<Site, torch::Tensor>& out, const std::map<Site, torch::Tensor>& captured,
                const std::vector<Site>& sites, const std::vector<size_t>& g, size_t total) {
  auto index = torch::tensor(std::vector<int64_t>(g.begin(), g.end()), torch::kInt64);
  for (Site s : sites) {
    auto a = captured.at(s).select(1, 0).to(torch::kFloat32);  // [n, L, U]
    if (!out.count(s)) {
      auto shape = a.sizes().vec();
      shape[0] = static_cast<int64_t>(total);
      out[s] = torch::empty(shape, a.options());
    }
    out[s].index_copy_(0, index.to(a.device()), a);
  }
}

// Captures `sites` at one position per row: answer-last (the row's last token) or the row's
// own `prompt_len[r] - 1`. A batch-invariant model runs one forward per distinct row length
// (no padding); otherwise one left-padded forward. Returns {site: [R, L, U]}.
std::map<Site, torch::Tensor> capture_rows(Model& model, const std::vector<std::vector<int64_t>>& rows,
                                           const std::vector<int64_t>& prompt_len, ReadPosition position,
                                           const std::vector<Site>& sites) {
  std::vector<int64_t> lengths;
  for (const auto& r : rows) lengths.push_back(static_cast<int64_t>(r.size()));
  const auto groups = group_rows(lengths, model.batch_invariant());
  std::map<Site, torch::Tensor> out;
  for (const auto& g : groups) {
    std::vector<std::vector<int64_t>> sub;
    for (size_t r : g) sub.push_back(rows[r]);
    auto batch = left_pad(sub, 0, torch::kCPU);
    const auto n = static_cast<int64_t>(g.size());
    auto read_at = torch::empty({n, 1}, torch::kInt64);  // [n, 1]
    for (int64_t i = 0; i < n; ++i) {
      read_at[i][0] = position == ReadPosition::kAnswerLast
                          ? batch.width - 1
                          : batch.column(static_cast<size_t>(i), prompt_len[g[static_cast<size_t>(i)]] - 1);
    }
    ForwardInput in{batch.input_ids, batch.positions, batch.key_mask, 0, torch::empty({n, 0}, torch::kInt64),
                    nullptr, {}};
    for (Site s : sites) in.capture[s] = read_at;
    place_rows(out, model.forward(in, nullptr).captured, sites, g, rows.size());
  }
  return out;
}

// As capture_rows, with each distinct prompt (a row's first prompt_len ids) run once: rows then
// run [last prompt token, answer] from the prompt's K/V (docs/identify.md, "Prefix sharing").
// A batch-invariant model runs one forward per distinct (prompt length, answer length). Every row
// must have at least one answer token.
std::map<Site, torch::Tensor> capture_rows_shared(Model& model, const std::vector<std::vector<int64_t>>& rows,
                                                  const std::vector<int64_t>& prompt_len, ReadPosition position,
                                                  const std::vector<Site>& sites, int64_t batch_size) {
  std::vector<const std::vector<int64_t>*> row_ptrs;
  for (const auto& r : rows) row_ptrs.push_back(&r);
  std::vector<size_t> entry;
  const auto prompts = distinct_prompts(row_ptrs, prompt_len, entry);
  PrefixCache cache(model);
  cache.fill(prompts, batch_size);
  auto run_of = [&](size_t r) { return static_cast<int64_t>(rows[r].size()) - prompt_len[r] + 1; };  // tokens run
  std::vector<int64_t> shapes;  // (prompt length, tokens run), ordered as the pair
  for (size_t r = 0; r < rows.size(); ++r) shapes.push_back((prompt_len[r] << 32) + run_of(r));
  const auto groups = group_rows(shapes, model.batch_invariant());
  std::map<Site, torch::Tensor> out;
  for (const auto& g : groups) {
    const auto n = static_cast<int64_t>(g.size());
    std::vector<size_t> entries;
    std::vector<const std::vector<int64_t>*> sub;
    std::vector<int64_t> from;  // each sequence runs its last prompt token and its answer
    for (size_t r : g) {
      entries.push_back(entry[r]);
      sub.push_back(&rows[r]);
      from.push_back(prompt_len[r] - 1);
    }
    const ContinuedBatch batch = right_pad_from(sub, from);
    auto read_at = torch::zeros({n, 1}, torch::kInt64);  // [n, 1]
    for (int64_t i = 0; i < n; ++i) {
      read_at[i][0] = position == ReadPosition::kAnswerLast ? batch.lengths[static_cast<size_t>(i)] - 1 : 0;
    }
    PrefixStart start = cache.start(entries, batch.width);
    const auto dev = model.device();
    ForwardInput in{batch.input_ids.to(dev), batch.positions.to(dev), torch::cat({start.key_mask, batch.real.to(dev)}, 1),
                    start.width,
                    torch::empty({n, 0}, torch::TensorOptions().dtype(torch::kInt64).device(dev)), nullptr, {}};
    for (Site s : sites) in.capture[s] = read_at.to(dev);
    place_rows(out, model.forward(in, &start.cache).captured, sites, g, rows.size());
  }
  return out;
}

struct Prepared {
  const Pair* pair;
  int64_t index;                  // among the pairs used, in file order
  std::vector<int64_t> pos, neg;  // token ids of prompt + sep + answer
  int64_t prompt_len;             // tokens of the prompt alone (with BOS)
};

std::vector<float> to_vec(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

SiteScores finish(Site site, const SiteInfo& info, const Running& r, const torch::Tensor& full_sum,
                  const IdentifyOptions& opts) {
  return scores_from_stats(site, info.score_units, info.group, SiteStats{r.n, r.mean, r.m2, full_sum}, opts.rank,
                           opts.top_k, opts.keep_stats);
}

std::vector<double> to_doubles(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Pairs that cannot separate anything: both sequences the same tokens, or an answer that adds no
// token after the prompt. All of them: an error (the mask would be all zeros); some: a warning.
void check_degenerate(const std::vector<Prepared>& prepared) {
  std::vector<std::string> same, empty;
  size_t unusable = 0;
  for (const auto& pr : prepared) {
    const bool is_same = pr.pos == pr.neg;
    const auto n = static_cast<size_t>(pr.prompt_len);
    const bool is_empty = pr.pos.size() <= n || pr.neg.size() <= n;
    if (is_same) same.push_back(str("'", pr.pair->id, "' (line ", pr.pair->line, ")"));
    if (is_empty) empty.push_back(str("'", pr.pair->id, "' (line ", pr.pair->line, ")"));
    unusable += (is_same || is_empty) ? 1 : 0;
  }
  auto first = [](const std::vector<std::string>& v) {
    return join(std::vector<std::string>(v.begin(), v.begin() + static_cast<long>(std::min<size_t>(3, v.size()))), ", ");
  };
  if (same.size() == prepared.size()) {
    throw_input(str("no usable pairs: in all ", same.size(), " the positive and negative sequences are the same tokens (",
                    first(same), "), so every difference would be zero"));
  }
  if (empty.size() == prepared.size()) {
    throw_input(str("no usable pairs: in all ", empty.size(), " an answer adds no token after the prompt (", first(empty),
                    "), so every pair would be read inside its prompt, where positive and negative are the same"));
  }
  if (unusable == prepared.size()) {
    throw_input(str("no usable pairs: each of the ", unusable, " has the same tokens for positive and negative or an "
                    "answer that adds no token after the prompt (", first(same), same.empty() ? "" : "; ", first(empty), ")"));
  }
  if (!same.empty()) {
    log::warn(str("identify: ", same.size(), " pair(s) have the same tokens for positive and negative (", first(same),
                  "); they add zero differences"));
  }
  if (!empty.empty()) {
    log::warn(str("identify: in ", empty.size(), " pair(s) an answer adds no token after the prompt (", first(empty),
                  "); the read position then lies in the prompt"));
  }
}

}  // namespace

SiteScores scores_from_stats(Site site, int64_t units, int64_t group, const SiteStats& r, RankRule rank,
                             int64_t top_k, bool keep_stats) {
  SiteScores s;
  s.site = site;
  s.n_layers = r.mean.size(0);
  s.units = units;
  s.group = group;
  s.count = r.n;
  s.mean_diff = to_vec(r.mean);
  s.std = to_vec((r.m2 / static_cast<double>(r.n)).sqrt());
  if (r.full_sum.defined()) s.mean_diff_full = to_vec(r.full_sum / static_cast<double>(r.n));
  auto flat = r.mean.to(torch::kCPU, torch::kFloat32).flatten();      // [L*U]
  auto score = rank == RankRule::kAbs ? flat.abs() : flat;
  auto order = std::get<1>(score.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));  // ties: lower index first
  auto order_a = order.accessor<int64_t, 1>();
  auto score_a = score.accessor<float, 1>();
  const int64_t total = order.size(0);
  s.ranking.resize(static_cast<size_t>(2 * total));
  s.ranking_score.resize(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) {
    const int64_t idx = order_a[i];
    s.ranking[2 * i] = static_cast<int32_t>(idx / s.units);
    s.ranking[2 * i + 1] = static_cast<int32_t>(idx % s.units);
    s.ranking_score[i] = score_a[idx];
  }
  if (r.n >= 2) {  // mean / standard error (sample sd / sqrt(n)); 0 where every pair agrees
    auto se = (r.m2 / static_cast<double>(r.n - 1)).sqrt() / std::sqrt(static_cast<double>(r.n));
    // Kept finite (a mask's datasets are checked on reading): |z| beyond 1e30 is stored as 1e30.
    auto z = torch::where(se > 0, r.mean / se.clamp_min(1e-30), torch::zeros_like(se)).clamp(-1e30, 1e30);
    s.zscore = to_vec(z);
  }
  if (top_k > 0) {
    s.top_k = std::min(top_k, total);
    s.mask.assign(static_cast<size_t>(total), 0);
    for (int64_t i = 0; i < s.top_k; ++i) s.mask[static_cast<size_t>(order_a[i])] = 1;
  }
  if (keep_stats) {
    s.stat_mean = to_doubles(r.mean);
    s.stat_m2 = to_doubles(r.m2);
    if (r.full_sum.defined()) s.stat_full_sum = to_doubles(r.full_sum);
  }
  return s;
}

SiteStats combine_stats(const SiteStats& a, const SiteStats& b) {
  if (a.n == 0) return b;
  if (b.n == 0) return a;
  SiteStats c;
  c.n = a.n + b.n;
  const double na = static_cast<double>(a.n), nb = static_cast<double>(b.n), n = static_cast<double>(c.n);
  auto delta = b.mean - a.mean;  // [L, U] float64
  c.mean = a.mean + delta * (nb / n);
  c.m2 = a.m2 + b.m2 + delta * delta * (na * nb / n);
  if (a.full_sum.defined() && b.full_sum.defined()) c.full_sum = a.full_sum + b.full_sum;
  return c;
}


ReadPosition parse_position(const std::string& s) { return parse_named(kReadPositions, s, "position"); }
RankRule parse_rank(const std::string& s) { return parse_named(kRankRules, s, "rank"); }
const char* position_name(ReadPosition p) { return name_of(kReadPositions, p); }
const char* rank_name(RankRule r) { return name_of(kRankRules, r); }

namespace {

// Each pair's token ids (prompt + separator + answer, and the prompt alone), in length order
// (stable: equal lengths keep file order, so padding stays small). Pairs over the length limit
// are skipped and counted in `stats`, or (strict) an error.
std::vector<Prepared> prepare_pairs(const ModelInfo& info, const Tokenizer& tok, const std::vector<Pair>& pairs,
                                    const IdentifyOptions& opts, IdentifyStats& stats) {
  const int64_t max_len = opts.max_length > 0 ? std::min(opts.max_length, info.max_positions) : info.max_positions;
  const bool bos = info.tokenizer.add_bos;
  std::vector<Prepared> prepared;
  auto text = [&](const std::string& s) { return opts.strip ? trim(s) : s; };
  auto skip = [&](const Pair& p, const std::string& count) {  // count: "N tokens ..."
    if (opts.strict) {
      throw_input(str("pair '", p.id, "' (line ", p.line, "): ", count, " exceed the limit of ", max_len, " (strict)"));
    }
    ++stats.skipped;
    stats.skipped_ids.push_back(p.id);
  };
  for (const auto& p : pairs) {
    const std::string prompt = text(p.prompt);
    std::string pos = prompt + opts.separator + text(p.positive), neg = prompt + opts.separator + text(p.negative);
    // Far over the limit: refused from its bytes alone, before tokenizing costs memory.
    const int64_t least = std::max(tokens_at_least(tok, pos), tokens_at_least(tok, neg));
    if (least > max_len) {
      skip(p, str("at least ", least, " tokens (counted from its ", std::max(pos.size(), neg.size()), " bytes)"));
      continue;
    }
    Prepared pr{&p, static_cast<int64_t>(prepared.size()), tok.encode(pos, bos), tok.encode(neg, bos),
                static_cast<int64_t>(tok.encode(prompt, bos).size())};
    const auto longest = static_cast<int64_t>(std::max(pr.pos.size(), pr.neg.size()));
    if (longest > max_len) {
      skip(p, str(longest, " tokens"));
      continue;
    }
    prepared.push_back(std::move(pr));
  }
  if (prepared.empty()) throw_input(str("no usable pairs: all ", pairs.size(), " exceed ", max_len, " tokens"));
  check_degenerate(prepared);
  std::stable_sort(prepared.begin(), prepared.end(), [](const Prepared& a, const Prepared& b) {
    return std::max(a.pos.size(), a.neg.size()) < std::max(b.pos.size(), b.neg.size());
  });
  return prepared;
}

// What the pairs add up to per site: running statistics of the differences, heads' full-resolution
// sums, and what ITI and the bootstrap need (kept only when asked for).
struct Accumulated {
  std::map<Site, Running> running;
  std::map<Site, torch::Tensor> head_full;           // heads: sum of full-resolution differences [L, H*Dh]
  std::vector<torch::Tensor> iti_pos, iti_neg;       // ITI: per batch [b, L, H*Dh] float32 CPU
  std::map<Site, std::vector<torch::Tensor>> diffs;  // bootstrap: per batch [b, L*units] float32 CPU
};

// Runs the pairs in batches (both sequences of a pair in one batch) and accumulates the
// differences positive - negative at the read position.
Accumulated accumulate(Model& model, const std::vector<Prepared>& prepared, const IdentifyOptions& opts, bool want_iti,
                       const ProgressFn& progress) {
  const ModelInfo& info = model.info();
  Accumulated acc;
  const auto total = static_cast<int64_t>(prepared.size());
  c10::InferenceMode inference;
  for (int64_t start = 0; start < total; start += opts.batch_size) {
    if (interrupted()) {
      throw Interrupted(interrupt_signal(), str("identify interrupted by ", signal_name(interrupt_signal()), " after ",
                                                start, " of ", total, " pairs; no mask written"));
    }
    const int64_t end = std::min(total, start + opts.batch_size);
    const int64_t b = end - start;
    std::vector<std::vector<int64_t>> rows;
    std::vector<int64_t> prompt_len;
    for (int64_t i = start; i < end; ++i) {
      const auto& pr = prepared[static_cast<size_t>(i)];
      rows.push_back(pr.pos);
      rows.push_back(pr.neg);
      prompt_len.insert(prompt_len.end(), {pr.prompt_len, pr.prompt_len});
    }
    bool share = opts.prefix_sharing;  // every row needs a prompt token and an answer token after it
    for (size_t r = 0; r < rows.size(); ++r) share = share && prompt_len[r] > 0 && static_cast<int64_t>(rows[r].size()) > prompt_len[r];
    auto captured = share ? capture_rows_shared(model, rows, prompt_len, opts.position, opts.sites, opts.batch_size)
                          : capture_rows(model, rows, prompt_len, opts.position, opts.sites);
    for (Site s : opts.sites) {
      auto a = captured.at(s);                                        // [2b, L, U]
      auto d = a.slice(0, 0, 2 * b, 2) - a.slice(0, 1, 2 * b, 2);   // [b, L, U] positive - negative
      if (s == Site::kHead) {
        add_rows(acc.head_full[s], d);
        if (want_iti) {
          acc.iti_pos.push_back(a.slice(0, 0, 2 * b, 2).to(torch::kCPU));
          acc.iti_neg.push_back(a.slice(0, 1, 2 * b, 2).to(torch::kCPU));
        }
        d = d.view({b, info.n_layers, info.n_heads, info.head_dim}).mean(-1);  // [b, L, H]
      }
      acc.running[s].add(d);
      if (opts.bootstrap > 0) acc.diffs[s].push_back(d.reshape({b, -1}).to(torch::kCPU, torch::kFloat32));
    }
    if (progress) progress(end, total);
  }
  return acc;
}

// The bootstrap's K values: powers of two up to the site's size (at most 1024), and top_k.
std::vector<int64_t> stability_ks(int64_t total_elems, int64_t top_k) {
  std::vector<int64_t> ks;
  for (int64_t k = 1; k <= std::min<int64_t>(total_elems, 1024); k *= 2) ks.push_back(k);
  if (top_k > 0 && std::find(ks.begin(), ks.end(), top_k) == ks.end() && top_k <= total_elems) {
    ks.push_back(top_k);
    std::sort(ks.begin(), ks.end());
  }
  return ks;
}

}  // namespace

std::vector<SiteScores> identify(Model& model, const Tokenizer& tok, const std::vector<Pair>& pairs,
                                 const IdentifyOptions& opts, IdentifyStats& stats, const ProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const ModelInfo& info = model.info();
  if (opts.sites.empty()) throw_field(ErrorKind::kUsage, "sites", ": no site given");
  if (opts.batch_size <= 0) throw_field(ErrorKind::kUsage, "batch_size", str(": expected a positive integer, found ", opts.batch_size));
  const std::vector<Prepared> prepared = prepare_pairs(info, tok, pairs, opts, stats);
  c10::InferenceMode inference;
  const bool want_iti = opts.iti && std::find(opts.sites.begin(), opts.sites.end(), Site::kHead) != opts.sites.end();
  Accumulated acc = accumulate(model, prepared, opts, want_iti, progress);
  const auto total = static_cast<int64_t>(prepared.size());
  // ITI's held-out split and the bootstrap's resamples see the pairs in file order, not in the
  // length order they ran in: rows [N, ...] in run order -> file order.
  std::vector<int64_t> run_pos(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) run_pos[static_cast<size_t>(prepared[static_cast<size_t>(i)].index)] = i;
  const auto file_order = torch::tensor(run_pos, torch::kInt64);
  auto in_file_order = [&](const std::vector<torch::Tensor>& parts) { return torch::cat(parts).index_select(0, file_order); };
  std::vector<SiteScores> result;
  for (Site s : opts.sites) {
    result.push_back(finish(s, info.site(s), acc.running[s], s == Site::kHead ? acc.head_full[s] : torch::Tensor(), opts));
    SiteScores& sc = result.back();
    if (s == Site::kHead && want_iti && total < 2) {
      log::warn(str("identify: ITI needs at least 2 pairs (one to train a probe, one to test it); ", total,
                    " used, so the mask file has no ITI scores"));
    } else if (s == Site::kHead && want_iti) {
      sc.iti = iti_scores(in_file_order(acc.iti_pos), in_file_order(acc.iti_neg), info.n_heads, opts.iti_val_fraction,
                          opts.seed);
    }
    if (opts.bootstrap > 0) {
      const int64_t total_elems = sc.n_layers * sc.units;
      sc.stability = bootstrap_stability(in_file_order(acc.diffs[s]), opts.rank == RankRule::kAbs, opts.bootstrap, opts.seed,
                                         stability_ks(total_elems, opts.top_k),
                                         opts.top_k > 0 ? opts.top_k : std::min<int64_t>(8, total_elems));
    }
  }
  stats.used = total;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace sadi
