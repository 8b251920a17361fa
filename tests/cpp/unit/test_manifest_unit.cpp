// manifest.json parsing without an exported model: the fuzz corpus's manifests (one per kind of
// architecture) in a temporary directory with placeholder files of the recorded sizes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <functional>

#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/json.hpp"
#include "sadi/model/manifest.hpp"

using namespace sadi;
namespace fs = std::filesystem;

namespace {

// A model directory holding corpus/NAME.json as manifest.json (edited by `edit`).
fs::path model_dir(const std::string& name, const std::function<void(Json&)>& edit = {}) {
  const fs::path src = fs::path(SADI_SOURCE_DIR) / "tests/fuzz/corpus/manifest" / (name + ".json");
  Json j = parse_json(read_text_file(src), src.string());
  if (edit) edit(j);
  const fs::path dir = fs::temp_directory_path() / ("sadi-unit-manifest-" + name + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "manifest.json") << j.dump(2);
  std::ofstream(dir / j["model_file"]["name"].get<std::string>(), std::ios::binary)
      << std::string(j["model_file"]["bytes"].get<size_t>(), '\0');
  std::ofstream(dir / j["tokenizer"]["file"].get<std::string>()) << "x";
  return dir;
}

std::string error_of(const fs::path& dir) {
  try {
    load_manifest(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ManifestUnit, ReadsNormAndPositionsOfEachKind) {
  const ModelInfo llama = load_manifest(model_dir("llama"));
  EXPECT_EQ(llama.norm_kind, NormKind::kRms);
  EXPECT_EQ(llama.positions, PositionKind::kRope);
  EXPECT_EQ(llama.rope_theta, 10000.0);
  EXPECT_EQ(llama.rope_scaling, RopeScaling::kNone);
  EXPECT_EQ(llama.site(Site::kHead).units, llama.n_heads * llama.head_dim);
  const ModelInfo gpt2 = load_manifest(model_dir("gpt2"));
  EXPECT_EQ(gpt2.norm_kind, NormKind::kLayer);
  EXPECT_EQ(gpt2.positions, PositionKind::kLearned);
  EXPECT_EQ(gpt2.rope_scaling, RopeScaling::kNone);
  EXPECT_EQ(load_manifest(model_dir("bloom")).positions, PositionKind::kAlibi);
}

TEST(ManifestUnit, AnyArchitectureNameIsAcceptedButBadKindsAreNamed) {
  EXPECT_EQ(load_manifest(model_dir("llama", [](Json& j) { j["architecture"] = "falcon"; })).architecture, "falcon");
  EXPECT_NE(error_of(model_dir("llama", [](Json& j) { j["positions"]["kind"] = "sinusoidal"; }))
                .find("key 'positions.kind': expected rope, learned or alibi"),
            std::string::npos);
  EXPECT_NE(error_of(model_dir("llama", [](Json& j) { j["norm"].erase("eps"); })).find("key 'norm.eps'"),
            std::string::npos);
  EXPECT_NE(error_of(model_dir("llama", [](Json& j) { j["format_version"] = 1; })).find("re-export it"),
            std::string::npos);
}
