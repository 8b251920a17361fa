// Unit tests of batching: left padding, continued rows, the one row grouping.
#include <gtest/gtest.h>

#include "sadi/core/error.hpp"
#include "sadi/model/batch.hpp"

using namespace sadi;

TEST(Batch, LeftPadsAndNumbersPositionsFromEachRowsStart) {
  auto b = left_pad({{5, 6, 7}, {9}}, 0, torch::kCPU);
  EXPECT_EQ(b.width, 3);
  EXPECT_TRUE(torch::equal(b.input_ids, torch::tensor({5, 6, 7, 0, 0, 9}, torch::kInt64).view({2, 3})));
  EXPECT_TRUE(torch::equal(b.positions, torch::tensor({0, 1, 2, 0, 0, 0}, torch::kInt64).view({2, 3})));
  EXPECT_TRUE(torch::equal(b.key_mask, torch::tensor({1, 1, 1, 0, 0, 1}, torch::kInt64).view({2, 3}).to(torch::kBool)));
  EXPECT_EQ(b.column(1, 0), 2);
  EXPECT_THROW(left_pad({{1}, {}}, 0, torch::kCPU), Error);
  EXPECT_THROW(left_pad({}, 0, torch::kCPU), Error);
}

TEST(Batch, RowsAreGroupedByKeyForAnInvariantModelElseInInputOrder) {
  using G = std::vector<std::vector<size_t>>;
  const std::vector<int64_t> keys{7, 3, 7, 3, 3, 9};
  EXPECT_EQ(group_rows(keys, true), (G{{1, 3, 4}, {0, 2}, {5}}));  // keys ascending, input order within
  EXPECT_EQ(group_rows(keys, true, 2), (G{{1, 3}, {4}, {0, 2}, {5}}));
  EXPECT_EQ(group_rows(keys, false), (G{{0, 1, 2, 3, 4, 5}}));
  EXPECT_EQ(group_rows(keys, false, 4), (G{{0, 1, 2, 3}, {4, 5}}));
  EXPECT_TRUE(group_rows({}, true).empty());
}
