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

struct Generic {
  explicit Generic(bool on) { native::force_generic(on); }
  ~Generic() { native::force_generic(false); }
};

}  // namespace

TEST(NativeKernels, DotMatchesADoubleSumForEveryTailLength) {
  torch::manual_seed(1);
  for (bool generic : {false, true}) {
    Generic g(generic);
    for (int64_t n : {1, 7, 8, 9, 31, 32, 33, 40, 64, 100, 576, 1537}) {
      auto a = torch::randn({n}), b = torch::randn({n});
      const double want = ref_dot(a.data_ptr<float>(), b.data_ptr<float>(), n);
      EXPECT_NEAR(native::dot(a.data_ptr<float>(), b.data_ptr<float>(), n), want, 1e-5 * std::sqrt(double(n)) + 1e-6)
          << native::kernel_isa() << " n " << n;
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

TEST(NativeKernels, GenericPathAgreesWithTheVectorPath) {
  torch::manual_seed(3);
  const int64_t out = 64, in = 576;
  auto w = torch::randn({out, in}), x = torch::randn({1, in});
  auto fast = torch::empty({1, out}), plain = torch::empty({1, out});
  native::gemv(w.data_ptr<float>(), out, in, x.data_ptr<float>(), in, fast.data_ptr<float>(), out, 1);
  {
    Generic g(true);
    EXPECT_EQ(std::string(native::kernel_isa()).rfind("generic", 0), 0u);
    native::gemv(w.data_ptr<float>(), out, in, x.data_ptr<float>(), in, plain.data_ptr<float>(), out, 1);
  }
  EXPECT_LE((fast - plain).abs().max().item<float>(), 1e-4);
}
