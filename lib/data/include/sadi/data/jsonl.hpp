#pragma once
// JSON Lines reading with file:line in every error.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "sadi/core/json.hpp"

namespace sadi {

// Calls fn(object, line_number, origin "FILE:LINE") for each non-blank line. Throws
// sadi::Error (input) for malformed JSON or a line that is not an object, and for a file with
// no records at all.
void for_each_jsonl(const std::filesystem::path& path,
                    const std::function<void(const JsonView&, int64_t)>& fn);

// A required non-empty string field of a JSON Lines record.
std::string required_text(const JsonView& v, const std::string& key);

// The record's optional "id" (a string or an integer), or "line N" when absent.
std::string record_id(const JsonView& v, int64_t line);

}  // namespace sadi
