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

namespace sadi {
namespace {

const char* kind_of(const fs::file_status& st) {
  switch (st.type()) {
    case fs::file_type::directory: return "a directory";
    case fs::file_type::character: return "a character device";
    case fs::file_type::block: return "a block device";
    case fs::file_type::fifo: return "a named pipe";
    case fs::file_type::socket: return "a socket";
    default: return "not a regular file";
  }
}

// Whether `out` names the same file as `in` (or a file inside the directory `in`).
bool same_file(const fs::path& out, const fs::path& in) {
  std::error_code ec;
  if (fs::is_directory(in, ec)) {
    for (const auto& e : fs::directory_iterator(in, ec)) {
      if (fs::equivalent(out, e.path(), ec)) return true;
    }
    return false;
  }
  return fs::equivalent(out, in, ec);
}

}  // namespace

fs::path guard_output(const std::string& flag, const fs::path& out, const std::vector<NamedInput>& inputs) {
  if (out.empty()) throw_usage(str(flag, ": expected a file name, found an empty string"));
  std::error_code ec;
  fs::path target = out;
  if (fs::is_symlink(fs::symlink_status(out, ec))) {
    target = fs::weakly_canonical(out, ec);  // the final target of the link chain
    if (ec) throw_io(str(out.string(), ": cannot resolve the symbolic link: ", ec.message()));
  }
  const auto st = fs::status(target, ec);
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    throw_io(str(out.string(), ": cannot write: it is ", kind_of(st), ", expected a regular file (or a new name)"));
  }
  if (fs::exists(st)) {
    for (const auto& in : inputs) {
      if (!in.path.empty() && same_file(target, in.path)) {
        throw_usage(str(flag, " ", out.string(), ": is the input given to ", in.flag, " (", in.path.string(),
                        "); inputs are never overwritten, choose another name"));
      }
    }
  }
  check_writable(target);
  return target;
}

}  // namespace sadi
