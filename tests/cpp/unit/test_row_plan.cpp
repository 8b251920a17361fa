// lib/eval's row planner without a model: which points share the prompt prefix, how prompts are
// chunked under the prefix cache's budget, and where batches end (lib/eval/src/row_plan.hpp).
#include <gtest/gtest.h>

#include "row_plan.hpp"
#include "sadi/model/prefix_cache.hpp"

using namespace sadi;

namespace {

RowJob row(int64_t chunk, int64_t key) {
  RowJob j;
  j.chunk = chunk;
  j.key = key;
  return j;
}

}  // namespace

TEST(RowPlan, OnlyPointsSteeredFromTheLastPromptTokenOnShareThePrefix) {
  Intervention none;  // method none
  EXPECT_TRUE(shares_prefix(none));
  Intervention iv;
  iv.label.method = Method::kSadi;
  for (Positions p : {Positions::kPromptLast, Positions::kFromPromptLast}) {
    iv.positions = p;
    EXPECT_TRUE(shares_prefix(iv)) << positions_name(p);
  }
  for (Positions p : {Positions::kPromptAll, Positions::kAll}) {
    iv.positions = p;
    EXPECT_FALSE(shares_prefix(iv)) << positions_name(p);
  }
}

TEST(RowPlan, PromptsAreChunkedUnderTheBudgetAtLeastOneEach) {
  // 10 bytes per token, 60 bytes: prompts of 3 tokens fit two to a chunk; one of 9 is alone
  EXPECT_EQ(PrefixCache::chunks({3, 3, 3, 9, 2, 4}, 10, 60), (std::vector<int64_t>{0, 0, 1, 2, 3, 3}));
  EXPECT_EQ(PrefixCache::chunks({}, 10, 60), (std::vector<int64_t>{}));
}

TEST(RowPlan, BatchesEndAtTheSizeAChunkAndForAnInvariantModelAKey) {
  const std::vector<RowJob> jobs{row(0, 5), row(0, 5), row(0, 6), row(1, 5), row(1, 5), row(-1, 7), row(-1, 7)};
  EXPECT_EQ(batch_end(jobs, 0, 8, false), 3);  // chunk 0 ends
  EXPECT_EQ(batch_end(jobs, 0, 8, true), 2);   // key 5 ends first
  EXPECT_EQ(batch_end(jobs, 0, 1, true), 1);   // batch size
  EXPECT_EQ(batch_end(jobs, 3, 8, true), 5);
  EXPECT_EQ(batch_end(jobs, 5, 8, true), 7);   // whole rows, to the end
}

TEST(RowPlan, APointStartsAtItsLowestEditedLayerClampAtTheFirst) {
  Intervention none;  // method none: nothing edited, the head alone
  EXPECT_EQ(first_edited_layer(none, 30), 30);
  Intervention iv;
  iv.label.method = Method::kSadi;
  EXPECT_EQ(first_edited_layer(iv, 30), 30);  // delta 0: no layer edited
  iv.layers = {9, 15, 22};
  EXPECT_EQ(first_edited_layer(iv, 30), 9);
  iv.mode = Mode::kClamp;  // clamp overwrites its site in every layer
  EXPECT_EQ(first_edited_layer(iv, 30), 0);
  iv.layers.clear();
  EXPECT_EQ(first_edited_layer(iv, 30), 0);
}
