// Dev/test splits and shards of an evaluation (job.hpp).
#include <stdexcept>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/eval/job.hpp"

namespace sadi {

Shard parse_shard(const std::string& s) {
  const auto parts = split(s, '/');
  Shard sh;
  try {
    if (parts.size() != 2) throw std::invalid_argument(s);
    size_t a = 0, b = 0;
    sh.index = std::stoll(parts[0], &a);
    sh.count = std::stoll(parts[1], &b);
    if (a != parts[0].size() || b != parts[1].size()) throw std::invalid_argument(s);
  } catch (const std::exception&) {
    throw_field(ErrorKind::kUsage, "shard", str(": expected I/N (e.g. 2/8), found '", s, "'"));
  }
  if (sh.count < 1 || sh.index < 1 || sh.index > sh.count) {
    throw_field(ErrorKind::kUsage, "shard", str(": expected 1 <= I <= N, found '", s, "'"));
  }
  return sh;
}

std::vector<TaskItem> take_shard(const std::vector<TaskItem>& items, const Shard& sh) {
  std::vector<TaskItem> out;
  for (const auto& it : items) {
    if (it.index % sh.count == sh.index - 1) out.push_back(it);  // index: position in the whole split
  }
  return out;
}

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
  s.test = take_shard(s.test, shard);
  s.dev = take_shard(s.dev, shard);
  if (s.test.empty()) {
    throw_field(ErrorKind::kInput, "shard", str(" ", shard.index, "/", shard.count, ": the test split has only ", s.n_test_all,
                                                " items, so this shard would be empty (use at most ", s.n_test_all, " shards)"));
  }
  if (s.has_dev() && s.dev.empty()) {
    throw_field(ErrorKind::kInput, "shard", str(" ", shard.index, "/", shard.count, ": the dev split has only ", s.n_dev_all,
                                                " items, so this shard's dev part would be empty (use at most ", s.n_dev_all,
                                                " shards)"));
  }
  return s;
}

}  // namespace sadi
