#pragma once
// Task files: JSON Lines with "prompt", "answer", optional "choices" (list of strings that
// contains the answer), optional "aliases" (more accepted answers for generate-em) and "id".
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sadi {

struct TaskItem {
  std::string id;
  std::string prompt;
  std::string answer;
  std::vector<std::string> choices;  // empty unless given
  std::vector<std::string> aliases;  // empty unless given
  int64_t line = 0;
  int64_t index = 0;  // position in its split (file order), used by --shard
};

// Throws sadi::Error (input) naming file and line: missing or empty prompt/answer, choices that
// are not a list of non-empty strings or do not contain the answer, an empty file.
std::vector<TaskItem> read_task(const std::filesystem::path& path);

// Splits items into dev and test: a seeded shuffle, the first round(fraction * n) are dev.
// Throws when either side would be empty. Each side keeps file order, re-indexed from 0.
void split_dev(const std::vector<TaskItem>& all, double fraction, uint64_t seed, std::vector<TaskItem>& dev,
               std::vector<TaskItem>& test);

}  // namespace sadi
