// Unit tests of left padding.
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
