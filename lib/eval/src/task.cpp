#include "sadi/eval/task.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/data/jsonl.hpp"

namespace sadi {
namespace {

// A list of non-empty strings under `key` with at least `min` entries; `shape` says what was
// expected when the value is not such a list.
std::vector<std::string> text_list(const JsonView& v, const std::string& key, size_t min, const std::string& shape) {
  const Json& a = v.raw(key);
  if (!a.is_array() || a.size() < min) v.fail(key, shape);
  std::vector<std::string> out;
  for (const auto& x : a) {
    if (!x.is_string() || trim(x.get<std::string>()).empty()) v.fail(key, "a list of non-empty strings");
    out.push_back(x.get<std::string>());
  }
  return out;
}

}  // namespace

std::vector<TaskItem> read_task(const std::filesystem::path& path) {
  std::vector<TaskItem> out;
  for_each_jsonl(path, [&](const JsonView& v, int64_t line) {
    TaskItem t;
    t.prompt = required_text(v, "prompt");
    t.answer = required_text(v, "answer");
    t.line = line;
    if (v.has("choices")) {
      t.choices = text_list(v, "choices", 2, "a list of at least two strings");
      if (std::find(t.choices.begin(), t.choices.end(), t.answer) == t.choices.end()) {
        throw_input(str(path.string(), ":", line, ": key 'choices': does not contain the answer \"", t.answer, "\""));
      }
    }
    if (v.has("aliases")) t.aliases = text_list(v, "aliases", 0, "a list of strings");
    t.id = record_id(v, line);
    t.index = static_cast<int64_t>(out.size());
    out.push_back(std::move(t));
  });
  return out;
}

void split_dev(const std::vector<TaskItem>& all, double fraction, uint64_t seed, std::vector<TaskItem>& dev,
               std::vector<TaskItem>& test) {
  if (!(fraction > 0 && fraction < 1)) {
    throw_field(ErrorKind::kUsage, "dev_fraction", str(": expected a number in (0, 1), found ", fraction));
  }
  std::vector<size_t> idx(all.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::mt19937_64 rng(seed);
  for (size_t i = idx.size(); i > 1; --i) {  // Fisher-Yates
    std::uniform_int_distribution<size_t> pick(0, i - 1);
    std::swap(idx[i - 1], idx[pick(rng)]);
  }
  const auto n_dev = static_cast<size_t>(std::llround(fraction * static_cast<double>(all.size())));
  if (n_dev == 0 || n_dev >= all.size()) {
    throw_field(ErrorKind::kInput, "dev_fraction", str(" ", fraction, " of ", all.size(), " items leaves an empty dev or test split"));
  }
  std::vector<size_t> d(idx.begin(), idx.begin() + static_cast<long>(n_dev));
  std::vector<size_t> t(idx.begin() + static_cast<long>(n_dev), idx.end());
  std::sort(d.begin(), d.end());
  std::sort(t.begin(), t.end());
  for (size_t i : d) {
    dev.push_back(all[i]);
    dev.back().index = static_cast<int64_t>(dev.size() - 1);
  }
  for (size_t i : t) {
    test.push_back(all[i]);
    test.back().index = static_cast<int64_t>(test.size() - 1);
  }
}

}  // namespace sadi
