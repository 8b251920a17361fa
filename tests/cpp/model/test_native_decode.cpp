// The native decode step (lib/model/src/native/) against the TorchScript module it replaces:
// the same logits and KV cache, with and without steering at every site, for every fixture
// architecture it takes; the module kept for those it does not.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "sadi/model/batch.hpp"
#include "sadi/model/model.hpp"
#include "test_util.hpp"

using namespace sadi;
using sadi::test::max_abs_diff;
using sadi::test::tolerance;

namespace {

struct NativeCase {
  std::string model;
  bool native;  // whether the native step must take this model (float32 Llama family)
};

void PrintTo(const NativeCase& c, std::ostream* os) { *os << c.model; }

std::unique_ptr<Model> load(const std::string& name, bool native) {
  LoadOptions o{"cpu", "", false};
  o.native_decode = native;
  return load_model(test::testdata(name), o);
}

// Ids of 2 rows of different lengths (left-padded): the reference prompts where the fixture has
// them, else fixed ids.
std::vector<std::vector<int64_t>> rows_for(const Model& m) {
  const int64_t v = m.info().vocab_size;
  std::vector<int64_t> a, b;
  for (int64_t i = 0; i < 11; ++i) a.push_back((7 + 13 * i) % v);
  for (int64_t i = 0; i < 8; ++i) b.push_back((3 + 29 * i) % v);
  return {a, b};
}

enum class Kind { kNone, kHeadScaleRow0, kNeuronAddHiddenScale, kResidualBaseRows, kEverySite };

// Steering for one step [B, 1] of `kind`, values from a seeded generator.
Steering steering_for(Kind kind, const ModelInfo& info, int64_t b) {
  Steering s;
  torch::manual_seed(static_cast<uint64_t>(kind) + 11);
  auto rnd = [&](Site site) { return torch::randn({b, info.site(site).units}) * 0.5; };
  auto site = [&](Site st) -> SiteEdit& {
    SiteEdit& e = s.sites[st];
    e.at = torch::ones({b, 1}, torch::kBool);
    return e;
  };
  const int64_t last = info.n_layers - 1;
  switch (kind) {
    case Kind::kNone: break;
    case Kind::kHeadScaleRow0: {
      SiteEdit& e = site(Site::kHead);
      e.at[1][0] = false;  // row 1 untouched
      e.layers[1].scale = rnd(Site::kHead);
      break;
    }
    case Kind::kNeuronAddHiddenScale:
      site(Site::kNeuron).layers[0].add = rnd(Site::kNeuron);
      site(Site::kHidden).layers[last].scale = rnd(Site::kHidden);
      break;
    case Kind::kResidualBaseRows: {
      LayerEdit& le = site(Site::kResidual).layers[0];
      le.base = rnd(Site::kResidual);
      le.base_rows = torch::tensor({false, true});
      le.scale = rnd(Site::kResidual);
      break;
    }
    case Kind::kEverySite:
      for (Site st : kAllSites) {
        SiteEdit& e = site(st);
        for (int64_t l = 0; l < info.n_layers; ++l) {
          e.layers[l].scale = rnd(st);
          e.layers[l].add = rnd(st) * 0.1;
        }
      }
      break;
  }
  return s;
}

struct Decoded {
  std::vector<torch::Tensor> logits;  // per step [B, V]
  KvCache cache;
};

// Prefill (the module's forward in both models) and `steps` one-token forwards, each with `kind`.
Decoded decode(Model& m, Kind kind, int64_t steps) {
  const auto rows = rows_for(m);
  const PaddedBatch batch = left_pad(rows, 0, torch::kCPU);
  const auto b = static_cast<int64_t>(rows.size());
  const int64_t width = batch.width;
  Decoded out{{}, KvCache(m.info(), b, width + steps, m.dtype(), m.device())};
  ForwardInput pre{batch.input_ids, batch.positions, batch.key_mask, 0, torch::full({b, 1}, width - 1, torch::kInt64),
                   nullptr, {}};
  auto next = m.forward(pre, &out.cache).logits.select(1, 0).argmax(-1, true);  // [B, 1]
  auto key_mask = torch::cat({batch.key_mask, torch::ones({b, steps}, torch::kBool)}, 1);
  auto lengths = torch::tensor(batch.lengths, torch::kInt64).unsqueeze(1);  // [B, 1]
  const Steering steer = steering_for(kind, m.info(), b);
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t slot = width + i;
    ForwardInput in{next, lengths + i, key_mask.slice(1, 0, slot + 1), slot, torch::zeros({b, 1}, torch::kInt64),
                    steer.empty() ? nullptr : &steer, {}};
    auto logits = m.forward(in, &out.cache).logits.select(1, 0);  // [B, V]
    out.logits.push_back(logits);
    next = logits.argmax(-1, true);
  }
  return out;
}

class NativeDecode : public ::testing::TestWithParam<NativeCase> {};

}  // namespace

TEST_P(NativeDecode, TakesExactlyTheFloat32LlamaFamily) {
  const auto m = load(GetParam().model, true);
  EXPECT_EQ(m->decode_kernel().rfind("native", 0) == 0, GetParam().native) << m->decode_kernel();
  EXPECT_EQ(load(GetParam().model, false)->decode_kernel(), "torchscript: off (--native-decode false)");
}

// The streamed matrices load straight onto 2 MiB pages (no copy after the load), where the
// kernel offers transparent huge pages at all; SADI_NATIVE_HUGE_PAGES=0 keeps them on 4 KiB.
TEST_P(NativeDecode, LoadsTheStreamedWeightsOntoHugePages) {
  if (!GetParam().native) GTEST_SKIP() << "the module decodes " << GetParam().model;
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes((std::istreambuf_iterator<char>(thp)), std::istreambuf_iterator<char>());
  if (modes.empty() || modes.find("[never]") != std::string::npos) GTEST_SKIP() << "no transparent huge pages here";
  EXPECT_NE(load(GetParam().model, true)->decode_kernel().find("weights on 2 MiB pages (loaded onto them)"),
            std::string::npos);
  setenv("SADI_NATIVE_HUGE_PAGES", "0", 1);
  const std::string off = load(GetParam().model, true)->decode_kernel();
  unsetenv("SADI_NATIVE_HUGE_PAGES");
  EXPECT_NE(off.find("weights on 4 KiB pages: SADI_NATIVE_HUGE_PAGES=0"), std::string::npos) << off;
}

TEST_P(NativeDecode, EqualsTheModuleWithAndWithoutSteering) {
  if (!GetParam().native) GTEST_SKIP() << "the module decodes " << GetParam().model;
  auto native = load(GetParam().model, true);
  auto module = load(GetParam().model, false);
  const double tol = tolerance("float32", "layouts");
  for (Kind kind : {Kind::kNone, Kind::kHeadScaleRow0, Kind::kNeuronAddHiddenScale, Kind::kResidualBaseRows,
                    Kind::kEverySite}) {
    const auto a = decode(*native, kind, 6);
    const auto b = decode(*module, kind, 6);
    ASSERT_EQ(a.logits.size(), b.logits.size());
    for (size_t i = 0; i < a.logits.size(); ++i) {
      EXPECT_LE(max_abs_diff(a.logits[i], b.logits[i]), tol) << "steering kind " << static_cast<int>(kind) << " step " << i;
    }
    for (size_t l = 0; l < a.cache.k.size(); ++l) {
      EXPECT_LE(max_abs_diff(a.cache.k[l], b.cache.k[l]), tol) << "K layer " << l;
      EXPECT_LE(max_abs_diff(a.cache.v[l], b.cache.v[l]), tol) << "V layer " << l;
    }
  }
  // steering changes the native step's numbers (the comparison above is not vacuous)
  const auto plain = decode(*native, Kind::kNone, 2), steered = decode(*native, Kind::kEverySite, 2);
  EXPECT_GT(max_abs_diff(plain.logits[0], steered.logits[0]), 1e-2);
}

TEST_P(NativeDecode, FixedShapeStepEqualsTheModules) {
  if (!GetParam().native) GTEST_SKIP() << "the module decodes " << GetParam().model;
  auto native = load(GetParam().model, true);
  auto module = load(GetParam().model, false);
  ASSERT_TRUE(module->has_decode_step());
  const auto rows = rows_for(*native);
  const PaddedBatch batch = left_pad(rows, 0, torch::kCPU);
  const int64_t b = 2, width = batch.width, cap = width + 3;
  std::vector<torch::Tensor> got;
  for (Model* m : {native.get(), module.get()}) {
    KvCache cache(m->info(), b, cap, m->dtype(), m->device());
    ForwardInput pre{batch.input_ids, batch.positions, batch.key_mask, 0, torch::full({b, 1}, width - 1, torch::kInt64),
                     nullptr, {}};
    m->forward(pre, &cache);
    auto key_mask = torch::cat({batch.key_mask, torch::zeros({b, 3}, torch::kBool)}, 1);
    key_mask.select(1, width).fill_(true);
    const Steering steer = steering_for(Kind::kHeadScaleRow0, m->info(), b);
    DecodeStep step{torch::full({b, 1}, 5, torch::kInt64), torch::tensor(batch.lengths, torch::kInt64).unsqueeze(1),
                    key_mask, torch::full({1}, width, torch::kInt64), &steer};
    got.push_back(m->decode_step(step, cache));
  }
  EXPECT_LE(max_abs_diff(got[0], got[1]), tolerance("float32", "layouts"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, NativeDecode,
                         ::testing::Values(NativeCase{"llama", true}, NativeCase{"qwen2", true},
                                           NativeCase{"qwen3", true}, NativeCase{"phi3", true},
                                           NativeCase{"llama-json", true}, NativeCase{"llama-bf16", false},
                                           NativeCase{"gemma2", false}, NativeCase{"gpt2", false},
                                           NativeCase{"bloom", false}),
                         [](const auto& info) {
                           std::string n = info.param.model;
                           for (auto& c : n) c = (c == '-') ? '_' : c;
                           return n;
                         });
