// Mask files: HDF5 round trip, atomic writes, and refusal of a mask made for another model.
#include <gtest/gtest.h>

#include <fstream>

#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/mask_check.hpp"
#include "sadi/io/mask_file.hpp"
#include "test_util.hpp"

using namespace sadi;

namespace {

MaskFile sample(const ModelInfo& info) {
  MaskFile m;
  m.provenance.model_fingerprint = info.fingerprint;
  m.provenance.other_text["note"] = "naïve ✓";
  m.provenance.pairs_used = 7;
  m.provenance.strip = false;
  m.provenance.shard = Shard{2, 3};
  m.provenance.iti_val_fraction = 0.25;
  SiteScores s;
  s.site = Site::kHead;
  s.n_layers = info.n_layers;
  s.units = info.n_heads;
  s.group = info.head_dim;
  s.count = 7;
  const auto n = static_cast<size_t>(s.n_layers * s.units);
  for (size_t i = 0; i < n; ++i) {
    s.mean_diff.push_back(static_cast<float>(i) * 0.5f - 1.0f);
    s.std.push_back(static_cast<float>(i));
    s.ranking.push_back(static_cast<int32_t>((n - 1 - i) / static_cast<size_t>(s.units)));
    s.ranking.push_back(static_cast<int32_t>((n - 1 - i) % static_cast<size_t>(s.units)));
    s.ranking_score.push_back(static_cast<float>(n - i));
  }
  s.mean_diff_full.assign(n * static_cast<size_t>(s.group), 0.25f);
  s.top_k = 2;
  s.mask.assign(n, 0);
  s.mask[n - 1] = s.mask[n - 2] = 1;
  m.sites.push_back(s);
  return m;
}

}  // namespace

TEST(MaskFile, RoundTripsEveryDatasetAndAttribute) {
  auto info = load_manifest(test::testdata("llama"));
  auto path = fs::temp_directory_path() / str("sadi-mask-", ::getpid(), ".h5");
  auto m = sample(info);
  write_mask_file(path, m);
  auto back = read_mask_file(path);
  EXPECT_EQ(back.provenance.other_text.at("note"), "naïve ✓");
  EXPECT_EQ(back.provenance.pairs_used, 7);
  EXPECT_EQ(back.provenance.format_version, kMaskFormatVersion);
  EXPECT_EQ(back.provenance.strip, false);
  EXPECT_EQ(back.provenance.shard->name(), "2/3");
  EXPECT_EQ(back.provenance.iti_val_fraction, 0.25);
  EXPECT_FALSE(back.provenance.pairs_file.has_value());
  // the codec writes exactly the attributes it read (what inspect and results show)
  EXPECT_EQ(provenance_json(provenance_from_attributes(mask_attributes(back.provenance))),
            provenance_json(back.provenance));
  EXPECT_EQ(provenance_json(back.provenance).at("strip"), "false");
  ASSERT_NE(back.find(Site::kHead), nullptr);
  const auto& a = m.sites[0];
  const auto& b = *back.find(Site::kHead);
  EXPECT_EQ(a.mean_diff, b.mean_diff);
  EXPECT_EQ(a.std, b.std);
  EXPECT_EQ(a.ranking, b.ranking);
  EXPECT_EQ(a.ranking_score, b.ranking_score);
  EXPECT_EQ(a.mean_diff_full, b.mean_diff_full);
  EXPECT_EQ(a.mask, b.mask);
  EXPECT_EQ(b.top_k, 2);
  EXPECT_EQ(back.find(Site::kNeuron), nullptr);
  EXPECT_NO_THROW(check_mask_matches_model(back, path, info));
  fs::remove(path);
}

// identify keeps the order of --sites; reading returns kAllSites order: the content hash must not
// depend on which (a fresh mask with its sites listed out of that order once warned "edited").
TEST(MaskFile, ContentHashDoesNotDependOnTheOrderOfSites) {
  auto info = load_manifest(test::testdata("llama"));
  auto path = fs::temp_directory_path() / str("sadi-mask-order-", ::getpid(), ".h5");
  auto m = sample(info);
  SiteScores hidden = m.sites[0];
  hidden.site = Site::kHidden;
  hidden.units = info.d_model;
  hidden.group = 1;
  const auto n = static_cast<size_t>(hidden.n_layers * hidden.units);
  hidden.mean_diff.assign(n, 0.5f);
  hidden.std.assign(n, 1.0f);
  hidden.mean_diff_full.clear();
  hidden.ranking.clear();
  hidden.ranking_score.clear();
  for (size_t i = 0; i < n; ++i) {
    hidden.ranking.push_back(static_cast<int32_t>(i / static_cast<size_t>(hidden.units)));
    hidden.ranking.push_back(static_cast<int32_t>(i % static_cast<size_t>(hidden.units)));
    hidden.ranking_score.push_back(static_cast<float>(n - i));
  }
  hidden.mask.assign(n, 0);
  hidden.mask[1] = hidden.mask[0] = 1;
  m.sites.insert(m.sites.begin(), hidden);  // hidden before head: not kAllSites order
  write_mask_file(path, m);
  auto back = read_mask_file(path);
  ASSERT_EQ(back.sites.size(), 2u);
  EXPECT_EQ(back.sites[0].site, Site::kHead);
  EXPECT_EQ(back.provenance.content_sha256, mask_content_sha256(back));
  EXPECT_EQ(mask_content_sha256(m), mask_content_sha256(back));
  // a mask stamped in its writer's order (before the order was fixed) still verifies; an edit does not
  EXPECT_TRUE(mask_content_hash_matches(back, mask_content_sha256(m, {Site::kHidden, Site::kHead})));
  back.sites[1].mean_diff[0] += 1.0f;
  EXPECT_FALSE(mask_content_hash_matches(back, mask_content_sha256(m, {Site::kHidden, Site::kHead})));
  EXPECT_FALSE(mask_content_hash_matches(back, mask_content_sha256(m)));
  fs::remove(path);
}

TEST(MaskFile, MaskForAnotherModelIsRefused) {
  auto llama = load_manifest(test::testdata("llama"));
  auto qwen = load_manifest(test::testdata("qwen2"));
  auto m = sample(llama);
  try {
    check_mask_matches_model(m, "mask.h5", qwen);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mask.h5: made for another model: attribute 'model_fingerprint'"),
              std::string::npos) << e.what();
  }
  m.provenance.model_fingerprint = qwen.fingerprint;
  m.sites[0].units = 3;
  try {
    check_mask_matches_model(m, "mask.h5", qwen);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/head has 3 layers x 3 units"), std::string::npos) << e.what();
  }
}

TEST(MaskFile, WrongShapeAndFailedWriteAreClear) {
  auto info = load_manifest(test::testdata("llama"));
  auto dir = fs::temp_directory_path() / str("sadi-maskdir-", ::getpid());
  fs::create_directories(dir);
  auto m = sample(info);
  EXPECT_THROW(write_mask_file(dir / "missing" / "m.h5", m), Error);
  write_mask_file(dir / "m.h5", m);
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);  // no temporary left behind
  std::ofstream(dir / "junk.h5") << "not hdf5";
  try {
    read_mask_file(dir / "junk.h5");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("junk.h5: not an HDF5 file"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

// The checksum stamped in the user block: every byte after it is covered (a change anywhere is
// refused before libhdf5 parses the file), and a mask without the block (written before it
// existed: the image alone, superblock at byte 0) still reads.
TEST(MaskFile, ChecksumCoversTheFileAndOlderMasksStillRead) {
  auto info = load_manifest(test::testdata("llama"));
  const auto path = fs::temp_directory_path() / str("sadi-mask-ck-", ::getpid(), ".h5");
  write_mask_file(path, sample(info));
  std::string bytes = read_text_file(path);
  ASSERT_EQ(bytes.compare(0, 22, "SADI mask file\nsha256 "), 0);
  ASSERT_EQ(bytes.compare(512, 4, "\x89HDF"), 0);
  auto write = [&](const std::string& b) { std::ofstream(path, std::ios::binary | std::ios::trunc) << b; };
  for (size_t at : {size_t{600}, bytes.size() / 2, bytes.size() - 1}) {  // contents
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    write(bad);
    try {
      read_mask_file(path);
      ADD_FAILURE() << "a changed byte at " << at << " was read";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
    }
  }
  std::string header = bytes;
  header[3] = 'X';
  write(header);
  EXPECT_THROW(read_mask_file(path), Error);
  write(bytes.substr(512));  // no user block: an older mask
  EXPECT_EQ(read_mask_file(path).find(Site::kHead)->mean_diff, sample(info).sites[0].mean_diff);
  fs::remove(path);
}
