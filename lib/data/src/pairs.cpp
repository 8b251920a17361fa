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
    if (v.has("id")) {
      const Json& id = v.raw("id");
      if (id.is_string()) {
        p.id = id.get<std::string>();
      } else if (id.is_number_integer()) {
        p.id = std::to_string(id.get<int64_t>());
      } else {
        v.fail("id", "a string or an integer");
      }
    } else {
      p.id = str("line ", line);
    }
    p.line = line;
    out.push_back(std::move(p));
  });
  return out;
}

}  // namespace sadi
