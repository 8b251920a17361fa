// The model-directory contract: manifest validation and clear errors for bad directories.
#include <gtest/gtest.h>

#include <fstream>

#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/model.hpp"
#include "sadi/model/tokenizer.hpp"
#include "test_util.hpp"

using namespace sadi;
using sadi::test::copy_model;
using sadi::test::patch_manifest;
using sadi::test::testdata;

namespace {

std::string load_error(const fs::path& dir, bool full = false) {
  try {
    if (full) {
      load_model(dir, {});
    } else {
      load_manifest(dir);
    }
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = copy_model("llama", ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

#define EXPECT_HAS(haystack, needle) EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

}  // namespace

TEST(Manifest, ReadsTheExportedTinyModel) {
  ModelInfo m = load_manifest(testdata("llama"));
  EXPECT_EQ(m.architecture, "llama");
  EXPECT_EQ(m.n_layers, 3);
  EXPECT_EQ(m.n_heads, 4);
  EXPECT_EQ(m.n_kv_heads, 2);
  EXPECT_EQ(m.head_dim, 16);
  EXPECT_EQ(m.site(Site::kHead).units, 64);
  EXPECT_EQ(m.site(Site::kHead).score_units, 4);
  EXPECT_EQ(m.site(Site::kNeuron).units, m.d_ffn);
  EXPECT_EQ(m.tokenizer.kind, TokenizerKind::kSentencePiece);
  ModelInfo q = load_manifest(testdata("qwen2"));
  EXPECT_TRUE(q.qkv_bias);
  EXPECT_TRUE(q.tied_embeddings);
}

TEST(Manifest, MissingDirectoryAndFile) {
  EXPECT_HAS(load_error("/nonexistent/model"), "/nonexistent/model: not found (expected a model directory");
  auto empty = fs::temp_directory_path() / "sadi-empty-model";
  fs::create_directories(empty);
  EXPECT_HAS(load_error(empty), "manifest.json: file not found");
  fs::remove_all(empty);
}

TEST_F(ManifestTest, NewerFormatVersionSaysWhatToDo) {
  patch_manifest(dir_, "format_version", kFormatVersion + 1);
  auto msg = load_error(dir_);
  EXPECT_HAS(msg, "key 'format_version'");
  EXPECT_HAS(msg, str("found ", kFormatVersion + 1));
  EXPECT_HAS(msg, "newer scripts/export_hf.py");
}

TEST_F(ManifestTest, OlderFormatVersionSaysReExport) {
  patch_manifest(dir_, "format_version", 1);  // before the steering inputs became base/base_rows
  auto msg = load_error(dir_);
  EXPECT_HAS(msg, "key 'format_version'");
  EXPECT_HAS(msg, "found 1");
  EXPECT_HAS(msg, "re-export it with scripts/export_hf.py");
}

TEST_F(ManifestTest, MissingKeyIsNamed) {
  patch_manifest(dir_, "dims.n_layers", nullptr);
  auto msg = load_error(dir_);
  EXPECT_HAS(msg, "manifest.json: key 'dims.n_layers': expected a positive integer, found nothing");
}

TEST_F(ManifestTest, WrongSiteShapeIsNamed) {
  Json sites = parse_json(read_text_file(dir_ / "manifest.json"), "x")["sites"];
  sites[1]["shape"] = {3, 99};
  patch_manifest(dir_, "sites", sites);
  auto msg = load_error(dir_);
  EXPECT_HAS(msg, "key 'sites[1].shape': expected [3, 160] (from dims), found [3,99]");
}

TEST_F(ManifestTest, MalformedJsonNamesLine) {
  std::ofstream(dir_ / "manifest.json") << "{\n  \"format_version\": 2,\n  oops\n}";
  auto msg = load_error(dir_);
  EXPECT_HAS(msg, "manifest.json: malformed JSON");
  EXPECT_HAS(msg, "line 3");
}

TEST_F(ManifestTest, TruncatedModelFileIsCaughtBySize) {
  auto path = dir_ / "model.ts";
  auto data = read_text_file(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(data.data(), static_cast<std::streamsize>(data.size() / 2));
  auto msg = load_error(dir_);
  EXPECT_HAS(msg, "model.ts: size is");
  EXPECT_HAS(msg, "truncated or replaced");
}

TEST_F(ManifestTest, CorruptModelFileOfTheRightSizeFailsToLoadClearly) {
  auto path = dir_ / "model.ts";
  auto data = read_text_file(path);
  for (size_t i = 0; i < data.size(); i += 7) data[i] = static_cast<char>(data[i] ^ 0x5a);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(data.data(), static_cast<std::streamsize>(data.size()));
  auto msg = load_error(dir_, true);
  EXPECT_HAS(msg, "model.ts: cannot load the TorchScript module");
}

TEST_F(ManifestTest, ModelFileFromAnotherExportIsRefused) {
  fs::copy_file(testdata("qwen2") / "model.ts", dir_ / "model.ts", fs::copy_options::overwrite_existing);
  patch_manifest(dir_, "model_file.bytes", static_cast<int64_t>(fs::file_size(dir_ / "model.ts")));
  auto msg = load_error(dir_, true);
  EXPECT_HAS(msg, "does not match manifest.json");
}

TEST_F(ManifestTest, MissingTokenizerAndUnknownKind) {
  patch_manifest(dir_, "tokenizer.kind", "wordpiece");
  EXPECT_HAS(load_error(dir_), "key 'tokenizer.kind': expected sentencepiece or hf-tokenizer-json");
  patch_manifest(dir_, "tokenizer.kind", "sentencepiece");
  fs::remove(dir_ / "tokenizer.model");
  EXPECT_HAS(load_error(dir_), "tokenizer.model: file not found");
}
