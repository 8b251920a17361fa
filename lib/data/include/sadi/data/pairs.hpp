#pragma once
// Contrastive pairs: JSON Lines with "prompt", "positive", "negative" and an optional "id".
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sadi {

struct Pair {
  std::string id;        // "id" or "line N"
  std::string prompt;
  std::string positive;  // the correct answer
  std::string negative;  // the wrong answer
  int64_t line = 0;      // 1-based line in the file
};

// Reads every pair (blank lines are skipped). Throws sadi::Error (input) naming the file and
// line for malformed JSON, a missing/empty/non-string field, or a file without pairs.
std::vector<Pair> read_pairs(const std::filesystem::path& path);

}  // namespace sadi
