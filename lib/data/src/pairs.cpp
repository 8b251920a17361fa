#include "sadi/data/pairs.hpp"

#include "sadi/core/strings.hpp"
#include "sadi/data/jsonl.hpp"

namespace sadi {

std::vector<Pair> read_pairs(const std::filesystem::path& path) {
  std::vector<Pair> out;
  for_each_jsonl(path, [&](const JsonView& v, int64_t line) {
    Pair p;
    p.prompt = required_text(v, "prompt");
    p.positive = required_text(v, "positive");
    p.negative = required_text(v, "negative");
    p.id = record_id(v, line);
    p.line = line;
    out.push_back(std::move(p));
  });
  return out;
}

}  // namespace sadi
