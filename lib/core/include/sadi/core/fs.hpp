#pragma once
// File helpers: whole-file reads with clear errors and atomic writes (temp file, then rename).
#include <filesystem>
#include <string>
#include <vector>

namespace sadi {

namespace fs = std::filesystem;

// Reads a whole file; throws sadi::Error (io) naming the path when it cannot.
std::string read_text_file(const fs::path& path);

// Path of a fresh temporary sibling of `target` (same directory, so rename is atomic).
fs::path temp_sibling(const fs::path& target);

// Writes `content` to `target` atomically: a temporary sibling is written, flushed and renamed.
// On failure nothing is left behind and sadi::Error (io) names the path.
void write_file_atomic(const fs::path& target, const std::string& content);

// Removes a temporary file on scope exit unless commit() renamed it onto the target.
class AtomicOutput {
 public:
  explicit AtomicOutput(fs::path target);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  const fs::path& temp_path() const { return temp_; }
  const fs::path& target() const { return target_; }
  void commit();  // renames temp onto target

 private:
  fs::path target_;
  fs::path temp_;
  bool committed_ = false;
};

}  // namespace sadi

namespace sadi {
// Fails early (before a long run) when `target` cannot be written: creates and removes a
// temporary sibling. Throws sadi::Error (io) naming the path.
void check_writable(const fs::path& target);

// An input of a command, by the flag that named it (a model directory counts with every file in it).
struct NamedInput {
  std::string flag;  // e.g. "--pairs"
  fs::path path;
};

// The one output-path guard of every command, run before any work. Refuses an empty name, an
// existing special file or directory, and a path that is (after symbolic links) one of the
// inputs: inputs are never overwritten. A symbolic link is written through: the returned path is
// its final target, which the atomic write replaces while the link stays. Then check_writable.
// Throws sadi::Error naming `flag` (usage) or the path (io).
fs::path guard_output(const std::string& flag, const fs::path& out, const std::vector<NamedInput>& inputs);
}  // namespace sadi
