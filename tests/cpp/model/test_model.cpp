// The C++ runtime against the Python module (reference tensors from make_reference.py) and
// against itself: KV cache vs full recomputation, padded batch vs rows, delta = 0 vs none.
#include <gtest/gtest.h>

#include "sadi/core/error.hpp"
#include "sadi/model/batch.hpp"
#include "sadi/model/model.hpp"
#include "sadi/model/prefix_cache.hpp"
#include "sadi/model/tokenizer.hpp"
#include "../min_tokens_checks.hpp"
#include "test_util.hpp"

using namespace sadi;
using sadi::test::max_abs_diff;
using sadi::test::tolerance;

namespace {

struct Case {
  std::string model;
  double tol;         // max |logit diff| against the Python module (same kernels)
  double layout_tol;  // across layouts (padding, cache): bf16 sums in another order move a few ulps
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.model; }

class ModelTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    model_ = load_model(test::testdata(GetParam().model), {"cpu", ""});
    json_ = test::load_reference_json(GetParam().model);
    ref_ = test::load_reference(GetParam().model);
    for (const auto& r : json_["ids"]) rows_.push_back(r.get<std::vector<int64_t>>());
    batch_ = left_pad(rows_, 0, torch::kCPU);
  }

  // Logits at every column of `b` (no cache).
  ForwardOutput run(const PaddedBatch& b, const Steering* steer = nullptr,
                    std::map<Site, torch::Tensor> capture = {}) {
    auto every = torch::arange(b.width, torch::kInt64).repeat({static_cast<int64_t>(b.lengths.size()), 1});
    ForwardInput in{b.input_ids, b.positions, b.key_mask, 0, every, steer, std::move(capture)};
    return model_->forward(in, nullptr);
  }

  // Head-site SADI steering in `layer` on `heads`, per-row deltas, at column `col`.
  Steering head_steering(const std::vector<double>& deltas, int64_t layer, std::vector<int64_t> heads, int64_t col) {
    const auto& info = model_->info();
    const auto b = static_cast<int64_t>(deltas.size());
    auto mask = torch::zeros({info.n_heads * info.head_dim});
    for (auto h : heads) mask.slice(0, h * info.head_dim, (h + 1) * info.head_dim).fill_(1.0);
    Steering s;
    auto& edit = s.sites[Site::kHead];
    edit.at = torch::zeros({b, batch_.width}, torch::kBool);
    edit.at.select(1, col).fill_(true);
    edit.layers[layer].scale = torch::tensor(deltas, torch::kFloat32).unsqueeze(1) * mask.unsqueeze(0);
    return s;
  }

  // Runs f, which must throw sadi::Error with `needle` in its message.
  template <typename F>
  static void expect_error(F&& f, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no error, expected: " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }

  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tok_;
  Json json_;
  std::map<std::string, torch::Tensor> ref_;
  std::vector<std::vector<int64_t>> rows_;
  PaddedBatch batch_;
};

}  // namespace

// The only test here that needs the sentencepiece plugin (left out of the sanitizer build,
// tests/sanitizer_exclude.txt); the others use the reference token ids.
TEST_P(ModelTest, TokenizerMatchesPythonSentencepiece) {
  tok_ = load_tokenizer(model_->info());
  const auto& prompts = json_["prompts"];
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto text = prompts[i].get<std::string>();
    auto ids = tok_->encode(text, model_->info().tokenizer.add_bos);
    EXPECT_EQ(ids, rows_[i]) << text;
    EXPECT_EQ(tok_->decode(std::vector<int64_t>(ids.begin() + 1, ids.end())), text);
    EXPECT_LE(tok_->min_tokens(text), static_cast<int64_t>(ids.size()) - 1) << text;  // the bound over-length checks use
  }
  expect_min_tokens_bounds(*tok_, "sentencepiece");
}

TEST_P(ModelTest, LogitsMatchThePythonModule) {
  auto out = run(batch_);
  EXPECT_LE(max_abs_diff(out.logits, ref_.at("logits")), GetParam().tol);
}

TEST_P(ModelTest, PaddedBatchEqualsRowsOneByOne) {
  auto all = run(batch_).logits;  // [B, T, V]
  for (size_t r = 0; r < rows_.size(); ++r) {
    auto one = run(left_pad({rows_[r]}, 0, torch::kCPU)).logits[0];  // [len, V]
    auto padded = all[static_cast<int64_t>(r)].slice(0, batch_.width - batch_.lengths[r]);
    EXPECT_LE(max_abs_diff(one, padded), GetParam().layout_tol) << "row " << r;
  }
}

TEST_P(ModelTest, KvCacheDecodeEqualsFullRecomputation) {
  auto full = run(batch_).logits;  // [B, T, V]
  const int64_t b = batch_.input_ids.size(0), t = batch_.width, prefill = t - 4;
  KvCache cache(model_->info(), b, t, model_->dtype(), model_->device());
  auto last = torch::full({b, 1}, prefill - 1, torch::kInt64);
  ForwardInput pre{batch_.input_ids.slice(1, 0, prefill), batch_.positions.slice(1, 0, prefill),
                   batch_.key_mask.slice(1, 0, prefill), 0, last, nullptr, {}};
  auto out = model_->forward(pre, &cache);
  EXPECT_LE(max_abs_diff(out.logits.squeeze(1), full.select(1, prefill - 1)), GetParam().layout_tol);
  for (int64_t c = prefill; c < t; ++c) {
    ForwardInput step{batch_.input_ids.slice(1, c, c + 1), batch_.positions.slice(1, c, c + 1),
                      batch_.key_mask.slice(1, 0, c + 1), c, torch::zeros({b, 1}, torch::kInt64), nullptr, {}};
    out = model_->forward(step, &cache);
    EXPECT_LE(max_abs_diff(out.logits.squeeze(1), full.select(1, c)), GetParam().layout_tol) << "column " << c;
  }
}

// Prompts' K/V computed once (PrefixCache), then each row's [last prompt token, answer] from
// it: prompts and answers of different lengths in one call (left-padded prefixes, right-padded
// answers) give the logits and the captured prompt values of a whole-sequence forward.
TEST_P(ModelTest, PrefixCacheRowsEqualFullRecomputation) {
  auto full = run(batch_);
  const auto b = static_cast<int64_t>(rows_.size());
  std::vector<std::vector<int64_t>> prompts;
  std::vector<int64_t> n_prompt;
  for (int64_t r = 0; r < b; ++r) {
    const auto len = static_cast<int64_t>(rows_[static_cast<size_t>(r)].size());
    ASSERT_GE(len, 2);
    n_prompt.push_back(std::max<int64_t>(1, len - 2 - r % 3));  // answers of 2, 3 and 4 tokens (where long enough)
    prompts.emplace_back(rows_[static_cast<size_t>(r)].begin(), rows_[static_cast<size_t>(r)].begin() + n_prompt.back());
  }
  PrefixCache cache(*model_, {Site::kHead});
  cache.fill(prompts, 2);
  int64_t t = 0;
  for (int64_t r = 0; r < b; ++r) t = std::max<int64_t>(t, static_cast<int64_t>(rows_[static_cast<size_t>(r)].size()) - n_prompt[static_cast<size_t>(r)] + 1);
  std::vector<size_t> entries;
  auto ids = torch::zeros({b, t}, torch::kInt64), pos = torch::zeros({b, t}, torch::kInt64);
  auto real = torch::zeros({b, t}, torch::kBool);
  for (int64_t r = 0; r < b; ++r) {
    const auto& row = rows_[static_cast<size_t>(r)];
    const int64_t np = n_prompt[static_cast<size_t>(r)], m = static_cast<int64_t>(row.size()) - np + 1;
    entries.push_back(static_cast<size_t>(r));
    EXPECT_EQ(cache.kept(static_cast<size_t>(r)), np - 1);
    for (int64_t k = 0; k < m; ++k) {
      ids[r][k] = row[static_cast<size_t>(np - 1 + k)];
      pos[r][k] = np - 1 + k;
      real[r][k] = true;
    }
  }
  PrefixStart start = cache.start(entries, t);
  auto every = torch::arange(t, torch::kInt64).repeat({b, 1});
  ForwardInput in{ids, pos, torch::cat({start.key_mask, real}, 1), start.width, every, nullptr, {}};
  auto logits = model_->forward(in, &start.cache).logits;  // [B, T, V]
  auto clean = cache.clean(Site::kHead, entries);         // [B, L, U]
  for (int64_t r = 0; r < b; ++r) {
    const int64_t np = n_prompt[static_cast<size_t>(r)];
    const int64_t m = static_cast<int64_t>(rows_[static_cast<size_t>(r)].size()) - np + 1;
    const int64_t col = batch_.column(static_cast<size_t>(r), np - 1);  // the last prompt token in `full`
    EXPECT_LE(max_abs_diff(logits[r].slice(0, 0, m), full.logits[r].slice(0, col, col + m)), GetParam().layout_tol)
        << "row " << r;
    // the head values at the last prompt token, as a whole-sequence forward captures them
    ForwardInput cap{batch_.input_ids.slice(0, r, r + 1), batch_.positions.slice(0, r, r + 1),
                     batch_.key_mask.slice(0, r, r + 1), 0, torch::empty({1, 0}, torch::kInt64), nullptr,
                     {{Site::kHead, torch::full({1, 1}, col, torch::kInt64)}}};
    auto want = model_->forward(cap, nullptr).captured.at(Site::kHead)[0][0];  // [L, U]
    EXPECT_LE(max_abs_diff(clean[r], want), GetParam().layout_tol) << "row " << r;
  }
}

namespace {

// The K/V a PrefixCache hands a row of `entry`: L x [Hkv, kept, Dh].
std::vector<torch::Tensor> kept_kv(const PrefixCache& cache, size_t entry) {
  PrefixStart s = cache.start({entry}, 1);
  std::vector<torch::Tensor> out;
  for (size_t l = 0; l < s.cache.k.size(); ++l) {
    out.push_back(s.cache.k[l][0].slice(1, 0, s.width).clone());
    out.push_back(s.cache.v[l][0].slice(1, 0, s.width).clone());
  }
  return out;
}

bool all_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

// Prompts sharing a template: their common leading blocks run once, each prompt's K/V and clean
// values still equal its whole-prompt forward's, and (batch-invariant) are bit-identical to those
// of the prompt filled alone, whatever shares the fill.
TEST_P(ModelTest, PrefixCacheRunsSharedBlocksOnceAndEachPromptAsAlone) {
  const int64_t block = PrefixCache::kBlockTokens, vocab = model_->info().vocab_size;
  // cuts: every 16 tokens up to 256, then doubling (the predecessors copied stay near-linear)
  EXPECT_EQ(PrefixCache::block_end(0), block);
  EXPECT_EQ(PrefixCache::block_end(PrefixCache::kFineTokens - block), PrefixCache::kFineTokens);
  EXPECT_EQ(PrefixCache::block_end(PrefixCache::kFineTokens), 2 * PrefixCache::kFineTokens);
  EXPECT_EQ(PrefixCache::block_end(4 * PrefixCache::kFineTokens), 8 * PrefixCache::kFineTokens);
  torch::manual_seed(7);
  auto random_ids = [&](int64_t n) {
    auto t = torch::randint(3, vocab, {n}, torch::kInt64);
    return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
  };
  const auto head = random_ids(2 * block + 5);  // two shared blocks and 5 tokens of a third
  std::vector<std::vector<int64_t>> prompts;
  for (int64_t tail : {int64_t{1}, int64_t{9}, block, block + 4}) {
    prompts.push_back(head);
    const auto more = random_ids(tail);
    prompts.back().insert(prompts.back().end(), more.begin(), more.end());
  }
  prompts.emplace_back(head.begin(), head.begin() + 2 * block);  // ends where a shared block does
  prompts.push_back(random_ids(1));
  int64_t total = 0, want_run = 2 * block + 1;  // the shared blocks once, the one-token prompt
  for (const auto& p : prompts) total += static_cast<int64_t>(p.size());
  for (size_t i = 0; i < 4; ++i) want_run += static_cast<int64_t>(prompts[i].size()) - 2 * block;
  auto invariant = load_model(test::testdata(GetParam().model), {"cpu", "", true});
  for (Model* m : {model_.get(), invariant.get()}) {
    PrefixCache all(*m, {Site::kHead});
    all.fill(prompts, 3);
    EXPECT_EQ(all.tokens_run(), want_run) << "of " << total;
    for (size_t i = 0; i < prompts.size(); ++i) {
      const auto n = static_cast<int64_t>(prompts[i].size());
      ASSERT_EQ(all.kept(i), n - 1);
      // against the whole prompt in one forward (no blocks)
      KvCache whole(m->info(), 1, n, m->dtype(), m->device());
      auto ids = torch::tensor(prompts[i], torch::kInt64).unsqueeze(0);  // [1, n]
      ForwardInput in{ids, torch::arange(n, torch::kInt64).unsqueeze(0), torch::ones({1, n}, torch::kBool), 0,
                      torch::empty({1, 0}, torch::kInt64), nullptr, {{Site::kHead, torch::full({1, 1}, n - 1, torch::kInt64)}}};
      auto clean = m->forward(in, &whole).captured.at(Site::kHead)[0][0];  // [L, U]
      const auto kv = kept_kv(all, i);
      for (size_t l = 0; n > 1 && l < whole.k.size(); ++l) {
        EXPECT_LE(max_abs_diff(kv[2 * l], whole.k[l][0].slice(1, 0, n - 1)), GetParam().layout_tol) << "prompt " << i;
        EXPECT_LE(max_abs_diff(kv[2 * l + 1], whole.v[l][0].slice(1, 0, n - 1)), GetParam().layout_tol) << "prompt " << i;
      }
      EXPECT_LE(max_abs_diff(all.clean(Site::kHead, {i})[0], clean), GetParam().layout_tol) << "prompt " << i;
      if (m != invariant.get()) continue;
      PrefixCache alone(*m, {Site::kHead});
      alone.fill({prompts[i]}, 1);
      EXPECT_TRUE(all_equal(kept_kv(alone, 0), kv)) << "prompt " << i;
      EXPECT_TRUE(torch::equal(alone.clean(Site::kHead, {0}), all.clean(Site::kHead, {i}))) << "prompt " << i;
    }
  }
}

TEST_P(ModelTest, DeltaZeroIsBitIdenticalToNoSteering) {
  auto plain = run(batch_).logits;
  const auto& info = model_->info();
  const int64_t b = batch_.input_ids.size(0);
  Steering zero;
  for (Site site : kAllSites) {
    auto& edit = zero.sites[site];
    edit.at = torch::ones({b, batch_.width}, torch::kBool);
    for (int64_t l = 0; l < info.n_layers; ++l) {
      edit.layers[l].scale = torch::zeros({b, info.site(site).units});
      edit.layers[l].add = torch::zeros({b, info.site(site).units});
    }
  }
  EXPECT_TRUE(torch::equal(run(batch_, &zero).logits, plain));
  Steering empty;
  empty.sites[Site::kHead].at = torch::ones({b, batch_.width}, torch::kBool);
  EXPECT_TRUE(torch::equal(run(batch_, &empty).logits, plain));
}

TEST_P(ModelTest, SteeringAtPositionTLeavesEarlierPositionsUntouched) {
  auto plain = run(batch_).logits;
  const int64_t col = batch_.width - 3;
  auto steer = head_steering(std::vector<double>(rows_.size(), 4.0), 1, {0, 2}, col);
  auto steered = run(batch_, &steer).logits;
  EXPECT_TRUE(torch::equal(steered.slice(1, 0, col), plain.slice(1, 0, col)));
  EXPECT_GT(max_abs_diff(steered.select(1, col), plain.select(1, col)), 1e-3);
  EXPECT_GT(max_abs_diff(steered.select(1, col + 1), plain.select(1, col + 1)), 1e-3);
}

TEST_P(ModelTest, PerRowSteeringMatchesThePythonModule) {
  std::vector<double> deltas;
  for (const auto& d : json_["deltas"]) deltas.push_back(d.get<double>());
  auto steer = head_steering(deltas, json_["layer"].get<int64_t>(), json_["heads"].get<std::vector<int64_t>>(),
                             batch_.width - 1);
  auto steered = run(batch_, &steer).logits.slice(1, batch_.width - 1);  // [B, 1, V]
  EXPECT_LE(max_abs_diff(steered, ref_.at("steered_logits")), GetParam().tol);
  auto plain = run(batch_).logits.slice(1, batch_.width - 1);
  EXPECT_TRUE(torch::equal(steered[1], plain[1]));  // the row with delta 0
  EXPECT_GT(max_abs_diff(steered[0], plain[0]), 1e-3);
}

TEST_P(ModelTest, CapturesMatchThePythonModule) {
  const int64_t b = batch_.input_ids.size(0);
  std::map<Site, torch::Tensor> cap;
  for (Site s : kAllSites) cap[s] = torch::full({b, 1}, batch_.width - 1, torch::kInt64);
  auto out = run(batch_, nullptr, cap);
  for (Site s : kAllSites) {
    const auto& got = out.captured.at(s);
    EXPECT_EQ(got.sizes().vec(), (std::vector<int64_t>{b, 1, model_->info().n_layers, model_->info().site(s).units}));
    EXPECT_LE(max_abs_diff(got, ref_.at(std::string("cap_") + site_name(s))), GetParam().tol) << site_name(s);
  }
}

TEST_P(ModelTest, BaseEqualToTheCleanValueIsANoOpAndBaseRowsSelectRows) {
  const int64_t b = batch_.input_ids.size(0), col = batch_.width - 1;
  std::map<Site, torch::Tensor> cap{{Site::kResidual, torch::full({b, 1}, col, torch::kInt64)}};
  auto clean = run(batch_, nullptr, cap);
  Steering clamp;
  auto& edit = clamp.sites[Site::kResidual];
  edit.at = torch::zeros({b, batch_.width}, torch::kBool);
  edit.at.select(1, col).fill_(true);
  for (int64_t l = 0; l < model_->info().n_layers; ++l) {
    edit.layers[l].base = clean.captured.at(Site::kResidual).select(1, 0).select(1, l);  // [B, U]
  }
  EXPECT_TRUE(torch::equal(run(batch_, &clamp).logits, clean.logits));
  const int64_t last_layer = model_->info().n_layers - 1;  // earlier layers' edits are overwritten by it
  auto& le = edit.layers[last_layer];
  le.base = le.base + 1.0;
  auto moved = run(batch_, &clamp).logits;
  for (int64_t r = 0; r < b; ++r) {
    EXPECT_GT(max_abs_diff(moved[r].select(0, col), clean.logits[r].select(0, col)), 1e-3) << r;
  }
  le.base_rows = torch::zeros({b}, torch::kBool);  // only row 1 takes the base values
  le.base_rows[1] = true;
  moved = run(batch_, &clamp).logits;
  EXPECT_TRUE(torch::equal(moved[0], clean.logits[0]));
  EXPECT_GT(max_abs_diff(moved[1].select(0, col), clean.logits[1].select(0, col)), 1e-3);
  le.scale = torch::full({b, model_->info().d_model}, 2.0);  // A' = base + 2 base: the formula on base
  le.base_rows = torch::Tensor();
  auto tripled = run(batch_, &clamp).logits;
  le.scale = torch::Tensor();
  le.base = le.base * 3.0;
  EXPECT_LE(max_abs_diff(tripled, run(batch_, &clamp).logits), 1e-5);
}

TEST_P(ModelTest, ForwardRejectsInconsistentInputsWithClearMessages) {
  const int64_t b = batch_.input_ids.size(0);
  auto steer = head_steering(std::vector<double>(rows_.size(), 1.0), 1, {0}, 0);
  steer.sites[Site::kHead].layers[1].scale = torch::zeros({b, 63});
  expect_error([&] { run(batch_, &steer); }, "steering 'head' layer 1: scale: expected shape [4, 64], found [4, 63]");
  steer.sites[Site::kHead].layers.clear();
  steer.sites[Site::kHead].layers[7].scale = torch::zeros({b, 64});
  expect_error([&] { run(batch_, &steer); }, "layer 7 out of range [0, 3)");
  expect_error([&] { run(batch_, nullptr, {{Site::kNeuron, torch::full({b, 1}, 99, torch::kInt64)}}); },
               "capture 'neuron': positions must lie in [0, ");
  ForwardInput in{batch_.input_ids, batch_.positions, batch_.key_mask, 2,
                  torch::zeros({b, 1}, torch::kInt64), nullptr, {}};
  expect_error([&] { model_->forward(in, nullptr); }, "key_mask: expected shape");
}

// forward_from (eval's layer sharing): from the residual stream a plain forward puts out below
// layer f, layers f.. give the forward's logits bit for bit, with steering in layer f or later.
TEST_P(ModelTest, ForwardFromEqualsTheWholeForward) {
  ASSERT_TRUE(model_->has_forward_from());
  const auto& info = model_->info();
  const int64_t b = batch_.input_ids.size(0);
  auto every = torch::arange(batch_.width, torch::kInt64).repeat({b, 1});  // [B, W]
  const auto residual = run(batch_, nullptr, {{Site::kResidual, every}}).captured.at(Site::kResidual);  // [B, W, L, d]
  ForwardInput in{batch_.input_ids, batch_.positions, batch_.key_mask, 0, every, nullptr, {}};
  for (int64_t first = 1; first <= info.n_layers; ++first) {
    const auto hidden = residual.select(2, first - 1);  // [B, W, d]
    const std::vector<double> deltas{4.0, -2.0, 0.0, 9.0};
    auto steer = head_steering(std::vector<double>(deltas.begin(), deltas.begin() + b), std::min(first, info.n_layers - 1),
                               {0, 2}, batch_.width - 2);
    const Steering* s = first < info.n_layers ? &steer : nullptr;
    in.steering = s;
    const auto want = run(batch_, s).logits;
    EXPECT_TRUE(torch::equal(model_->forward_from(in, nullptr, first, hidden), want)) << "from layer " << first;
  }
  // a wrong stream gives other logits (the comparison above can fail)
  in.steering = nullptr;
  EXPECT_FALSE(torch::equal(model_->forward_from(in, nullptr, 1, residual.select(2, 1)), run(batch_).logits));
}

TEST_P(ModelTest, ForwardFromRefusesStepsItWouldSkip) {
  const int64_t b = batch_.input_ids.size(0);
  auto every = torch::arange(batch_.width, torch::kInt64).repeat({b, 1});
  const auto hidden = torch::zeros({b, batch_.width, model_->info().d_model}, model_->dtype());
  auto steer = head_steering(std::vector<double>(rows_.size(), 1.0), 1, {0}, 0);
  ForwardInput in{batch_.input_ids, batch_.positions, batch_.key_mask, 0, every, &steer, {}};
  expect_error([&] { model_->forward_from(in, nullptr, 2, hidden); },
               "steering edits site 'head' in layer 1, below the first layer run (2)");
  in.steering = nullptr;
  expect_error([&] { model_->forward_from(in, nullptr, 4, hidden); }, "layer 4 outside [0, 3]");
  expect_error([&] { model_->forward_from(in, nullptr, 1, hidden.slice(2, 1)); }, "forward_from: hidden");
  in.capture[Site::kHead] = every;
  expect_error([&] { model_->forward_from(in, nullptr, 1, hidden); }, "captures are not supported");
  in.capture.clear();
  KvCache upper(model_->info(), b, batch_.width, model_->dtype(), model_->device(), 2);
  EXPECT_EQ(upper.k[0].size(2), 0);
  EXPECT_EQ(upper.k[2].size(2), batch_.width);
  expect_error([&] { model_->forward_from(in, &upper, 1, hidden); }, "the KV cache holds layers from 2");
  expect_error([&] { model_->forward(in, &upper); }, "a cache for forward_from");
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ModelTest,
                         ::testing::Values(Case{"llama", tolerance("float32", "same_kernels"), tolerance("float32", "layouts")},
                                           Case{"qwen2", tolerance("float32", "same_kernels"), tolerance("float32", "layouts")},
                                           Case{"llama-bf16", tolerance("bfloat16", "same_kernels"),
                                                tolerance("bfloat16", "layouts")}),
                         [](const auto& info) {
                           std::string n = info.param.model;
                           for (auto& c : n) c = (c == '-') ? '_' : c;
                           return n;
                         });
