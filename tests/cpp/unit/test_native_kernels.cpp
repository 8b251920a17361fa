// The native decode step's kernels (lib/model/src/native/kernels.hpp) against a double-precision
// sum, and the invariances the runtime relies on: a row's result does not depend on how many
// vectors share the call or on the thread count.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "native/kernels.hpp"

using namespace sadi;

namespace {

double ref_dot(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

struct ForceIsa {
  explicit ForceIsa(const std::string& name) { native::force_isa(name); }
  ~ForceIsa() { native::force_isa(""); }
};

}  // namespace

TEST(NativeKernels, DotMatchesADoubleSumForEveryTailLength) {
  torch::manual_seed(1);
  for (const auto& isa : native::available_isas()) {
    ForceIsa forced(isa);
    ASSERT_EQ(std::string(native::kernel_isa()).rfind(isa, 0), 0u);
    for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65, 100, 127, 128, 129, 576, 1537}) {
      auto a = torch::randn({n}), b = torch::randn({n});
      const double want = ref_dot(a.data_ptr<float>(), b.data_ptr<float>(), n);
      EXPECT_NEAR(native::dot(a.data_ptr<float>(), b.data_ptr<float>(), n), want, 1e-5 * std::sqrt(double(n)) + 1e-6)
          << native::kernel_isa() << " n " << n;
    }
  }
}

TEST(NativeKernels, AttendMatchesADoubleSoftmaxOverTheKeptSlots) {
  torch::manual_seed(5);
  for (const auto& isa : native::available_isas()) {
    ForceIsa forced(isa);
    for (int64_t dh : {8, 24, 64, 72, 128}) {
      for (int64_t n : {1, 3}) {
        const int64_t slots = 37;
        auto q = torch::randn({n, dh}), k = torch::randn({slots, dh}), v = torch::randn({slots, dh});
        std::vector<uint8_t> keep(slots);
        for (int64_t s = 0; s < slots; ++s) keep[s] = s % 5 != 2;  // gaps: padding, free slots
        const float scale = 0.3f;
        auto out = torch::full({n, dh}, 7.0f);  // overwritten, not added to
        std::vector<float> scratch(static_cast<size_t>(n * slots));
        native::attend(q.data_ptr<float>(), n, k.data_ptr<float>(), v.data_ptr<float>(), keep.data(), slots, dh, scale,
                       out.data_ptr<float>(), scratch.data());
        auto kept = torch::from_blob(keep.data(), {slots}, torch::kUInt8).to(torch::kBool);
        auto scores = torch::matmul(q.to(torch::kFloat64), k.to(torch::kFloat64).t()) * scale;  // [n, S]
        auto p = torch::softmax(scores.masked_fill(kept.logical_not(), -INFINITY), -1);
        auto want = torch::matmul(p, v.to(torch::kFloat64));  // [n, dh]
        EXPECT_LE((out.to(torch::kFloat64) - want).abs().max().item<double>(), 1e-5) << isa << " dh " << dh << " n " << n;
      }
    }
  }
}

TEST(NativeKernels, GemvMatchesTorchAndIsBatchAndThreadInvariant) {
  torch::manual_seed(2);
  const int64_t out = 203, in = 77, rows = 5;
  auto w = torch::randn({out, in}), x = torch::randn({rows, in});
  auto y = torch::empty({rows, out});
  native::gemv(w.data_ptr<float>(), out, in, x.data_ptr<float>(), in, y.data_ptr<float>(), out, rows);
  EXPECT_LE((y - torch::mm(x, w.t())).abs().max().item<float>(), 1e-4);
  const int threads = at::get_num_threads();
  for (int t : {1, 2, 3}) {
    at::set_num_threads(t);
    for (int64_t r = 0; r < rows; ++r) {
      auto one = torch::empty({1, out});
      native::gemv(w.data_ptr<float>(), out, in, x[r].data_ptr<float>(), in, one.data_ptr<float>(), out, 1);
      EXPECT_TRUE(torch::equal(one[0], y[r])) << "row " << r << ", " << t << " threads";
    }
  }
  at::set_num_threads(threads);
}

TEST(NativeKernels, SplitsWorkOverLibTorchsThreads) {
  if (!native::openmp_enabled()) GTEST_SKIP() << "kernels built without OpenMP (a non-GCC build: one thread)";
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  EXPECT_EQ(native::parallel_threads(), 2);  // 1: at::parallel_for compiled without OpenMP runs serially
  at::set_num_threads(1);
  EXPECT_EQ(native::parallel_threads(), 1);
  at::set_num_threads(threads);
}

TEST(NativeKernels, EveryPathAgreesWithTheBest) {
  torch::manual_seed(3);
  const int64_t out = 64, in = 576;
  auto w = torch::randn({out, in}), x = torch::randn({1, in});
  auto best = torch::empty({1, out});
  native::gemv(w.data_ptr<float>(), out, in, x.data_ptr<float>(), in, best.data_ptr<float>(), out, 1);
  for (const auto& isa : native::available_isas()) {
    ForceIsa forced(isa);
    auto y = torch::empty({1, out});
    native::gemv(w.data_ptr<float>(), out, in, x.data_ptr<float>(), in, y.data_ptr<float>(), out, 1);
    EXPECT_LE((y - best).abs().max().item<float>(), 1e-4) << isa;
  }
}

TEST(NativeKernels, TheBestInstructionSetIsTheDefaultAndOthersAreRefused) {
  const auto have = native::available_isas();
  EXPECT_EQ(have.front(), "generic");
  EXPECT_EQ(std::string(native::kernel_isa()).rfind(have.back(), 0), 0u);
  EXPECT_THROW(native::force_isa("avx1024"), std::invalid_argument);
  EXPECT_EQ(std::string(native::kernel_isa()).rfind(have.back(), 0), 0u);
}
