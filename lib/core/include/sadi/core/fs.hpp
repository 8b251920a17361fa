#pragma once
// File helpers: whole-file reads with clear errors and atomic writes (temp file, then rename).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace sadi {

namespace fs = std::filesystem;

// Limits of the readers (docs/errors.md "Input limits"): a whole JSON file and one line of a
// JSON Lines file. The environment variables SADI_MAX_FILE_BYTES and SADI_MAX_LINE_BYTES raise them.
inline constexpr uintmax_t kDefaultMaxFileBytes = uintmax_t{1} << 30;  // 1 GiB
inline constexpr size_t kDefaultMaxLineBytes = size_t{16} << 20;       // 16 MiB
uintmax_t max_file_bytes();
size_t max_line_bytes();

// Checks that `path` can be read as a file, with one message per cause: missing, a directory, a
// socket or block device, unreadable (permissions). Pipes and character devices (/dev/stdin) are
// read as streams, bounded by the readers' limits. Throws sadi::Error (io).
void check_readable_file(const fs::path& path);

// Checks that `dir` can be listed and entered as a directory: missing ("DIR: not WHAT"), a file or
// anything else ("DIR: is a file, expected WHAT"), no permission. Throws sadi::Error (io).
void check_readable_dir(const fs::path& dir, const std::string& what);

// Reads a whole file of at most max_bytes (a larger one is refused before it is read); throws
// sadi::Error (io) naming the path when it cannot, (input) when it is too large.
std::string read_text_file(const fs::path& path, uintmax_t max_bytes = max_file_bytes());

// Reads a text file line by line ("\n" or "\r\n"), holding at most one line of at most
// max_bytes: a longer line is refused after reading max_bytes + 1 bytes of it, naming FILE:LINE.
class LineReader {
 public:
  explicit LineReader(const fs::path& path, size_t max_bytes = max_line_bytes());
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  bool next(std::string& line);                     // false at the end of the file
  int64_t line_number() const { return line_no_; }  // of the line last returned

 private:
  fs::path path_;
  size_t max_bytes_;
  std::FILE* f_ = nullptr;
  int64_t line_no_ = 0;
};

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
  int slot_ = -1;  // in the signal handler's list of temporary files (interrupt.hpp)
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
