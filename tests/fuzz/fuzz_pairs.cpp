// Contrastive pairs (JSON Lines: prompt, positive, negative, optional id): sadi identify --pairs.
#include "fuzz_common.hpp"
#include "sadi/data/pairs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = sadi::fuzz::write_input("pairs.jsonl", data, size);
  sadi::fuzz::expect_clean([&] {
    const auto pairs = sadi::read_pairs(path);
    for (const auto& p : pairs) {
      if (p.id.empty() || p.line < 1) __builtin_trap();  // every pair names itself for errors
    }
  });
  return 0;
}
