// lib/io's provenance codec without a file: typed fields <-> root attributes.
#include <gtest/gtest.h>

#include "sadi/io/mask_file.hpp"

using namespace sadi;

TEST(MaskProvenance, AttributesRoundTripAndUnparsableValuesAreKeptAsRead) {
  MaskAttributes a;
  a.text = {{"model_fingerprint", "sha256:ab"}, {"strip", "true"}, {"batch_invariant", "maybe"}, {"shard", "2/4"},
            {"iti_val_fraction", "0.2"}, {"merged_shards", "x"}, {"note", "kept"}, {"seed", "7"}};
  a.integer = {{"pairs_used", 12}, {"format_version", 1}, {"extra", 5}};
  const MaskProvenance p = provenance_from_attributes(a);
  EXPECT_EQ(p.model_fingerprint, "sha256:ab");
  EXPECT_EQ(p.strip, true);
  EXPECT_FALSE(p.batch_invariant.has_value());  // "maybe" is not a boolean: kept as text
  EXPECT_EQ(p.other_text.at("batch_invariant"), "maybe");
  EXPECT_EQ(p.shard->index, 2);
  EXPECT_EQ(p.shard->count, 4);
  EXPECT_EQ(p.iti_val_fraction, 0.2);
  EXPECT_FALSE(p.merged_shards.has_value());
  EXPECT_EQ(p.other_text.at("seed"), "7");  // an integer field stored as text is not taken as the integer
  EXPECT_FALSE(p.seed.has_value());
  EXPECT_EQ(p.pairs_used, 12);
  EXPECT_EQ(p.other_integer.at("extra"), 5);
  const MaskAttributes back = mask_attributes(p);
  EXPECT_EQ(back.text, a.text);
  EXPECT_EQ(back.integer, a.integer);
}
