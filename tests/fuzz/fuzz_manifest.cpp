// manifest.json of a model directory (written by scripts/export_hf.py, read by every command).
#include "fuzz_common.hpp"
#include "sadi/model/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto dir = sadi::fuzz::scratch() / "model";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "manifest.json", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  sadi::fuzz::expect_clean([&] {
    const sadi::ModelInfo m = sadi::load_manifest(dir);
    if (m.n_layers <= 0 || m.n_heads <= 0 || m.vocab_size <= 0) __builtin_trap();  // validated
  });
  return 0;
}
