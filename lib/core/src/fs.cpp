#include "sadi/core/fs.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

std::string read_text_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_io(str(path.string(), ": file not found"));
  if (fs::is_directory(path, ec)) throw_io(str(path.string(), ": is a directory, expected a file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_io(str(path.string(), ": cannot open for reading: ", std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw_io(str(path.string(), ": read error"));
  return ss.str();
}

fs::path temp_sibling(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  return dir / str(".", target.filename().string(), ".tmp-", ::getpid(), "-", counter++);
}

AtomicOutput::AtomicOutput(fs::path target) : target_(std::move(target)), temp_(temp_sibling(target_)) {
  fs::path dir = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw_io(str(target_.string(), ": cannot write: directory ", dir.string(), " does not exist"));
  }
  if (fs::is_directory(target_, ec)) {
    throw_io(str(target_.string(), ": cannot write: it is a directory"));
  }
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicOutput::commit() {
  std::error_code ec;
  fs::rename(temp_, target_, ec);
  if (ec) throw_io(str(target_.string(), ": cannot rename the temporary file into place: ", ec.message()));
  committed_ = true;
}

void write_file_atomic(const fs::path& target, const std::string& content) {
  AtomicOutput out(target);
  {
    std::ofstream f(out.temp_path(), std::ios::binary | std::ios::trunc);
    if (!f) throw_io(str(target.string(), ": cannot open for writing: ", std::strerror(errno)));
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    f.flush();
    if (!f) throw_io(str(target.string(), ": write failed: ", std::strerror(errno)));
  }
  out.commit();
}

}  // namespace sadi

namespace sadi {

void check_writable(const fs::path& target) {
  AtomicOutput probe(target);
  std::ofstream f(probe.temp_path(), std::ios::binary);
  if (!f) throw_io(str(target.string(), ": cannot write: ", std::strerror(errno)));
}

}  // namespace sadi
