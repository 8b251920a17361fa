#include "sadi/core/json.hpp"

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

std::string dump_json(const Json& j, int indent) { return j.dump(indent, ' ', false, Json::error_handler_t::replace); }

Json parse_json(const std::string& text, const std::string& origin) {
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..." or
    // (found by tests/fuzz) "[json.exception.out_of_range.406] number overflow parsing '1e966'"
    std::string what = e.what();
    auto pos = what.find("] ");
    throw_input(str(origin, ": malformed JSON: ", pos == std::string::npos ? what : what.substr(pos + 2)));
  }
}

JsonView::JsonView(const Json& j, std::string origin, std::string prefix)
    : j_(&j), origin_(std::move(origin)), prefix_(std::move(prefix)) {
  if (!j.is_object()) throw_input(str(origin_, ": ", prefix_.empty() ? "document" : "key '" + prefix_ + "'",
                                      ": expected an object, found ", j.type_name()));
}

std::string JsonView::where(const std::string& key) const {
  return str(origin_, ": key '", prefix_.empty() ? key : prefix_ + "." + key, "'");
}

void JsonView::fail(const std::string& key, const std::string& expected) const {
  std::string found = has(key) ? (*j_)[key].dump() : "nothing (key missing)";
  if (found.size() > 80) found = found.substr(0, 77) + "...";
  if (has(key) && (*j_)[key].is_number_integer() && !is_int64((*j_)[key])) found += " (beyond the 64-bit integer range)";
  throw_input(str(where(key), ": expected ", expected, ", found ", found));
}

bool JsonView::has(const std::string& key) const { return j_->contains(key); }

const Json& JsonView::raw(const std::string& key) const {
  if (!has(key)) fail(key, "a value");
  return (*j_)[key];
}

JsonView JsonView::object(const std::string& key) const {
  if (!has(key) || !(*j_)[key].is_object()) fail(key, "an object");
  return JsonView((*j_)[key], origin_, prefix_.empty() ? key : prefix_ + "." + key);
}

std::string JsonView::string(const std::string& key) const {
  if (!has(key) || !(*j_)[key].is_string()) fail(key, "a string");
  return (*j_)[key].get<std::string>();
}

bool is_int64(const Json& v) {
  if (!v.is_number_integer()) return false;
  return !v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX);
}

int64_t JsonView::integer(const std::string& key) const {
  if (!has(key) || !is_int64((*j_)[key])) fail(key, "an integer");
  return (*j_)[key].get<int64_t>();
}

int64_t JsonView::positive(const std::string& key) const {
  if (!has(key) || !is_int64((*j_)[key]) || (*j_)[key].get<int64_t>() <= 0) {
    fail(key, "a positive integer");
  }
  return (*j_)[key].get<int64_t>();
}

double JsonView::number(const std::string& key) const {
  if (!has(key) || !(*j_)[key].is_number()) fail(key, "a number");
  return (*j_)[key].get<double>();
}

bool JsonView::boolean(const std::string& key) const {
  if (!has(key) || !(*j_)[key].is_boolean()) fail(key, "true or false");
  return (*j_)[key].get<bool>();
}

std::vector<int64_t> JsonView::int_list(const std::string& key) const {
  if (!has(key) || !(*j_)[key].is_array()) fail(key, "a list of integers");
  std::vector<int64_t> out;
  for (const auto& v : (*j_)[key]) {
    if (!is_int64(v)) fail(key, "a list of integers");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

}  // namespace sadi
