// Dev/test splits and shards of an evaluation (job.hpp).
#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/eval/job.hpp"

namespace sadi {

EvalSplits load_splits(const SplitSource& source, uint64_t seed, const Shard& shard) {
  EvalSplits s;
  s.test = read_task(source.task);
  if (source.dev_file) {
    s.dev = read_task(*source.dev_file);
  } else if (source.dev_fraction) {
    std::vector<TaskItem> all = std::move(s.test);
    s.test.clear();
    split_dev(all, *source.dev_fraction, seed, s.dev, s.test);
  }
  s.n_test_all = s.test.size();
  s.n_dev_all = s.dev.size();
  for (const auto& it : s.dev) s.dev_prompts_all.push_back(it.prompt);
  if (shard.whole()) return s;
  auto position = [](const TaskItem& it) { return it.index; };  // position in the whole split
  s.test = select_shard(std::move(s.test), shard, position);
  s.dev = select_shard(std::move(s.dev), shard, position);
  if (s.test.empty()) {
    throw_field(ErrorKind::kInput, "shard", str(" ", shard.name(), ": the test split has only ", s.n_test_all,
                                                " items, so this shard would be empty (use at most ", s.n_test_all, " shards)"));
  }
  if (s.has_dev() && s.dev.empty()) {
    throw_field(ErrorKind::kInput, "shard", str(" ", shard.name(), ": the dev split has only ", s.n_dev_all,
                                                " items, so this shard's dev part would be empty (use at most ", s.n_dev_all,
                                                " shards)"));
  }
  return s;
}

}  // namespace sadi
