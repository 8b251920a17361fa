// The load arena and the move onto 2 MiB pages (lib/model/src/native/huge_pages.hpp): what
// LibTorch allocates while a scope lives lands in the arena and stays valid after it, nothing
// after the scope does, a full arena falls back, freed large blocks give their pages back, and
// a move keeps every value.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <torch/torch.h>

#include <cstdio>

#include "native/huge_pages.hpp"

using namespace sadi::native;

namespace {

constexpr size_t kMiB = size_t{1} << 20;

// How many of the pages of [p, p + n) are resident (mincore).
size_t resident_pages(const void* p, size_t n) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const auto lo = reinterpret_cast<uintptr_t>(p) / page * page;
  const size_t len = reinterpret_cast<uintptr_t>(p) + n - lo;
  std::vector<unsigned char> v((len + page - 1) / page);
  if (mincore(reinterpret_cast<void*>(lo), len, v.data()) != 0) return SIZE_MAX;
  size_t r = 0;
  for (unsigned char c : v) r += c & 1;
  return r;
}

}  // namespace

TEST(HugePages, AllocationsInTheScopeComeFromTheArenaAndOutliveIt) {
  auto arena = HugeArena::reserve(16 * kMiB);
  ASSERT_TRUE(arena);
  torch::Tensor inside;
  {
    ArenaLoadScope scope(arena, 0);
    ASSERT_TRUE(scope.active());
    inside = torch::arange(kMiB, torch::kFloat32);  // 4 MiB
    EXPECT_TRUE(arena->holds(inside.data_ptr(), inside.nbytes()));
  }
  const torch::Tensor after = torch::arange(kMiB, torch::kFloat32);
  EXPECT_FALSE(arena->holds(after.data_ptr(), after.nbytes()));
  EXPECT_TRUE(torch::equal(inside, after));
  EXPECT_GE(arena->used(), inside.nbytes());
  EXPECT_EQ(arena->used() % 64, 0u);
}

TEST(HugePages, AFullArenaFallsBackToLibTorchsAllocator) {
  auto arena = HugeArena::reserve(2 * kMiB);
  ASSERT_TRUE(arena);
  ArenaLoadScope scope(arena, 0);
  const torch::Tensor big = torch::ones({static_cast<int64_t>(kMiB)}, torch::kFloat32);  // 4 MiB > 2 MiB
  EXPECT_FALSE(arena->holds(big.data_ptr(), big.nbytes()));
  EXPECT_EQ(big.sum().item<float>(), static_cast<float>(kMiB));
  const torch::Tensor small = torch::ones({1024}, torch::kFloat32);
  EXPECT_TRUE(arena->holds(small.data_ptr(), small.nbytes()));
}

TEST(HugePages, AFreedLargeBlockGivesItsWholePagesBack) {
  auto arena = HugeArena::reserve(16 * kMiB);
  ASSERT_TRUE(arena);
  const void* p = nullptr;
  {
    ArenaLoadScope scope(arena, 0);
    torch::Tensor t = torch::ones({static_cast<int64_t>(2 * kMiB)}, torch::kFloat32);  // 8 MiB, touched
    p = t.data_ptr();
    ASSERT_TRUE(arena->holds(p, t.nbytes()));
    // The first 2 MiB page inside the block, resident while the tensor lives.
    const auto page = reinterpret_cast<const char*>((reinterpret_cast<uintptr_t>(p) + 2 * kMiB - 1) & ~(2 * kMiB - 1));
    EXPECT_EQ(resident_pages(page, 2 * kMiB), 2 * kMiB / static_cast<size_t>(sysconf(_SC_PAGESIZE)));
    t.reset();
    EXPECT_EQ(resident_pages(page, 2 * kMiB), 0u);
  }
}

TEST(HugePages, MoveKeepsEveryValueOnTheArenasAlignment) {
  torch::Tensor a = torch::randn({300, 77});
  torch::Tensor b = torch::randn({5, 1000});
  const torch::Tensor a0 = a.clone(), b0 = b.clone();
  const void* old = a.data_ptr();
  const std::string pages = move_to_huge_pages({&a, &b});
  EXPECT_TRUE(pages == "2 MiB pages" || pages.rfind("4 KiB pages", 0) == 0) << pages;
  EXPECT_NE(a.data_ptr(), old);
  EXPECT_TRUE(torch::equal(a, a0));
  EXPECT_TRUE(torch::equal(b, b0));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data_ptr()) % (2 * kMiB), 0u);  // the arena's start
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data_ptr()) % 64, 0u);
}

TEST(HugePages, TheScopeFaultsInWhatItIsAskedToAheadOfTheLoad) {
  auto arena = HugeArena::reserve(16 * kMiB);
  ASSERT_TRUE(arena);
  torch::Tensor t;
  {
    ArenaLoadScope scope(arena, 6 * kMiB);
    t = torch::empty({16}, torch::kFloat32);  // the arena's first block: its start
  }
  utsname u{};
  uname(&u);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  if (major * 100 + minor < 514) GTEST_SKIP() << "MADV_POPULATE_WRITE is Linux 5.14+, this is " << u.release;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(resident_pages(t.data_ptr(), 6 * kMiB), 6 * kMiB / page);
  EXPECT_EQ(resident_pages(static_cast<char*>(t.data_ptr()) + 8 * kMiB, 2 * kMiB), 0u);  // past what was asked
}
