#pragma once
// Typed access to JSON documents with errors that name the file, the key, what was expected
// and what was found.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sadi {

using Json = nlohmann::json;

// Serialises `j` (indent < 0: one line); invalid UTF-8 in strings (model output) becomes U+FFFD
// instead of an exception.
std::string dump_json(const Json& j, int indent = -1);

// True for an integer that fits int64 (nlohmann keeps larger ones as unsigned or float).
bool is_int64(const Json& v);

// Parses `text` read from `origin` (a file name, or "file:line" for JSON Lines).
Json parse_json(const std::string& text, const std::string& origin);

// A view on one JSON object that knows where it came from ("manifest.json", key prefix).
class JsonView {
 public:
  JsonView(const Json& j, std::string origin, std::string prefix = "");
  bool has(const std::string& key) const;
  JsonView object(const std::string& key) const;
  const Json& raw(const std::string& key) const;  // throws if missing
  std::string string(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  int64_t positive(const std::string& key) const;
  double number(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::vector<int64_t> int_list(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;
  std::string where(const std::string& key) const;  // "origin: key 'prefix.key'"
  const Json& json() const { return *j_; }

 private:
  const Json* j_;
  std::string origin_;
  std::string prefix_;
};

}  // namespace sadi
