#include "sadi/data/jsonl.hpp"

#include "sadi/core/context.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

void for_each_jsonl(const std::filesystem::path& path, const std::function<void(const JsonView&, int64_t)>& fn) {
  OperationContext context(str("reading ", path.string()));
  fault_point("jsonl");
  LineReader in(path);
  std::string line;
  int64_t records = 0;
  while (in.next(line)) {
    const int64_t n = in.line_number();
    if (trim(line).empty()) continue;
    const std::string origin = str(path.string(), ":", n);
    Json j = parse_json(line, origin);
    if (!j.is_object()) throw_input(str(origin, ": expected a JSON object, found ", j.type_name()));
    fn(JsonView(j, origin), n);
    ++records;
  }
  if (records == 0) throw_input(str(path.string(), ": no records (the file is empty)"));
}

std::string required_text(const JsonView& v, const std::string& key) {
  if (!v.has(key) || !v.raw(key).is_string() || trim(v.raw(key).get<std::string>()).empty()) {
    v.fail(key, "a non-empty string");
  }
  return v.raw(key).get<std::string>();
}

std::string record_id(const JsonView& v, int64_t line) {
  if (!v.has("id")) return str("line ", line);
  const Json& id = v.raw("id");
  if (id.is_string()) return id.get<std::string>();
  // The integer's own digits: an id beyond int64 (kept unsigned by the parser) never wraps.
  if (id.is_number_integer()) return id.dump();
  v.fail("id", "a string or an integer (larger ids as strings)");
}

}  // namespace sadi
