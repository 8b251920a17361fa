// Task items (JSON Lines: prompt, answer, optional choices, aliases, id): sadi eval --task/--dev,
// and the seeded dev split taken from them.
#include "fuzz_common.hpp"
#include "sadi/eval/task.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = sadi::fuzz::write_input("task.jsonl", data, size);
  sadi::fuzz::expect_clean([&] {
    const auto items = sadi::read_task(path);
    std::vector<sadi::TaskItem> dev, test;
    sadi::split_dev(items, 0.5, 1, dev, test);
    if (dev.size() + test.size() != items.size()) __builtin_trap();
  });
  return 0;
}
