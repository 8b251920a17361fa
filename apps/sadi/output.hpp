#pragma once
// Where a command's text output goes: stdout, or (a target path) a temporary sibling that
// commit() closes, checks and renames onto the target; a failed or interrupted run leaves nothing
// behind (the signal handler removes the temporary file: sadi/core/interrupt.hpp).
#include <fstream>
#include <iostream>
#include <memory>

#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/strings.hpp"

namespace sadi::app {

class TextOutput {
 public:
  explicit TextOutput(const fs::path& target) {  // empty: stdout
    if (target.empty()) return;
    file_ = std::make_unique<AtomicOutput>(target);
    stream_.open(file_->temp_path(), std::ios::binary);
    if (!stream_) throw_io(str(target.string(), ": cannot write"));
  }
  bool to_file() const { return file_ != nullptr; }
  std::ostream& stream() { return file_ ? static_cast<std::ostream&>(stream_) : std::cout; }
  void commit() {
    if (!file_) return;
    stream_.close();
    if (!stream_) throw_io(str(file_->target().string(), ": write failed"));
    file_->commit();
  }

 private:
  std::unique_ptr<AtomicOutput> file_;
  std::ofstream stream_;
};

}  // namespace sadi::app
