// A whole model directory as the commands read it before model.ts is loaded: manifest.json, the
// files it names (model.ts of the recorded size or not, tokenizer.json) and the tokenizer. The
// input holds the manifest and the tokenizer.json separated by a line "--8<--"; the model.ts
// written is as long as the manifest records (capped) when the input's first byte is even.
#include <algorithm>

#include "fuzz_common.hpp"
#include "sadi/core/json.hpp"
#include "sadi/model/manifest.hpp"
#include "sadi/model/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const size_t cut = in.find("\n--8<--\n");
  const std::string manifest = in.substr(0, cut);
  const std::string tokenizer = cut == std::string::npos ? "" : in.substr(cut + 8);
  const auto dir = sadi::fuzz::scratch() / "model";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "manifest.json", std::ios::binary) << manifest;
  std::ofstream(dir / "tokenizer.json", std::ios::binary) << tokenizer;
  sadi::fuzz::expect_clean([&] {
    int64_t bytes = 16;
    try {  // model.ts of the recorded size (the size check passes) or of 16 bytes
      const auto j = sadi::Json::parse(manifest);
      if (size > 0 && data[0] % 2 == 0) bytes = std::clamp<int64_t>(j.at("model_file").at("bytes").get<int64_t>(), 0, 1 << 16);
    } catch (const std::exception&) {
    }
    std::ofstream(dir / "model.ts", std::ios::binary) << std::string(static_cast<size_t>(bytes), 'x');
    const sadi::ModelInfo m = sadi::load_manifest(dir);
    if (m.n_layers <= 0 || m.n_heads <= 0 || m.vocab_size <= 0 || m.sites.empty()) __builtin_trap();  // validated
    for (const auto& s : m.sites) {
      if (s.units <= 0 || s.score_units <= 0 || s.group <= 0 || s.units != s.score_units * s.group) __builtin_trap();
    }
    if (m.tokenizer.kind != sadi::TokenizerKind::kHfTokenizerJson) return;
    auto tok = sadi::load_hf_tokenizer((dir / m.tokenizer.file).string(), m.bos_ids);
    for (auto id : tok->encode("Hello world", m.tokenizer.add_bos)) {
      if (id < 0 || id >= tok->vocab_size()) __builtin_trap();
    }
  });
  return 0;
}
