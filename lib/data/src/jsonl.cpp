#include "sadi/data/jsonl.hpp"

#include <fstream>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

void for_each_jsonl(const std::filesystem::path& path, const std::function<void(const JsonView&, int64_t)>& fn) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw_io(str(path.string(), ": file not found"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_io(str(path.string(), ": cannot open for reading"));
  std::string line;
  int64_t n = 0, records = 0;
  while (std::getline(in, line)) {
    ++n;
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
  if (id.is_number_integer()) return std::to_string(id.get<int64_t>());
  v.fail("id", "a string or an integer");
}

}  // namespace sadi
