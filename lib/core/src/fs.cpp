#include "sadi/core/fs.hpp"

#include <atomic>
#include <climits>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unistd.h>

#include "sadi/core/error.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

namespace {
uintmax_t env_limit(const char* name, uintmax_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (errno != 0 || *end != '\0' || n == 0 || v[0] == '-') {
    throw_usage(str("environment variable ", name, ": expected a positive number of bytes, found '", v, "'"));
  }
  return n;
}
}  // namespace

uintmax_t max_file_bytes() { return env_limit("SADI_MAX_FILE_BYTES", kDefaultMaxFileBytes); }
size_t max_line_bytes() {
  const uintmax_t n = env_limit("SADI_MAX_LINE_BYTES", kDefaultMaxLineBytes);
  return n > SIZE_MAX / 2 ? SIZE_MAX / 2 : static_cast<size_t>(n);
}

void check_readable_file(const fs::path& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) throw_io(str(path.string(), ": file not found"));
  if (ec) throw_io(str(path.string(), ": cannot read: ", ec.message()));
  if (st.type() == fs::file_type::directory) throw_io(str(path.string(), ": is a directory, expected a file"));
  // Pipes (`--pairs <(jq ...)`) and character devices (/dev/stdin) stream; the readers' limits
  // bound what they may take. A socket or a block device is no input file.
  if (st.type() == fs::file_type::socket || st.type() == fs::file_type::block) {
    throw_io(str(path.string(), ": is a ", st.type() == fs::file_type::socket ? "socket" : "block device",
                 ", expected a file"));
  }
  if (::access(path.c_str(), R_OK) != 0) {
    throw_io(str(path.string(), ": cannot read: ", std::strerror(errno)));
  }
}

void check_readable_dir(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found) throw_io(str(dir.string(), ": not found (expected ", what, ")"));
  if (ec) throw_io(str(dir.string(), ": cannot read: ", ec.message(), " (expected ", what, ")"));
  if (st.type() != fs::file_type::directory) {
    throw_io(str(dir.string(), ": is a ", st.type() == fs::file_type::regular ? "file" : "special file",
                 ", expected ", what));
  }
  if (::access(dir.c_str(), R_OK | X_OK) != 0) {
    throw_io(str(dir.string(), ": cannot read the directory: ", std::strerror(errno), " (expected ", what, ")"));
  }
}

std::string read_text_file(const fs::path& path, uintmax_t max_bytes) {
  check_readable_file(path);
  auto too_large = [&](const std::string& size) {
    throw_input(str(path.string(), ": ", size, " bytes exceed the limit of ", max_bytes,
                    " bytes for this file (set SADI_MAX_FILE_BYTES to raise it)"));
  };
  std::error_code ec;
  const uintmax_t size = fs::is_regular_file(path, ec) ? fs::file_size(path, ec) : 0;
  if (!ec && size > max_bytes) too_large(std::to_string(size));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_io(str(path.string(), ": cannot open for reading: ", std::strerror(errno)));
  std::string out;
  char buf[1 << 16];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {  // a pipe has no size: bounded while reading
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes) too_large(str("more than ", max_bytes));
  }
  if (in.bad()) throw_io(str(path.string(), ": read error"));
  return out;
}

LineReader::LineReader(const fs::path& path, size_t max_bytes) : path_(path), max_bytes_(max_bytes) {
  check_readable_file(path);
  f_ = std::fopen(path.c_str(), "rb");
  if (f_ == nullptr) throw_io(str(path.string(), ": cannot open for reading: ", std::strerror(errno)));
}

LineReader::~LineReader() {
  if (f_ != nullptr) std::fclose(f_);
}

bool LineReader::next(std::string& line) {
  line.clear();
  int c = getc_unlocked(f_);
  if (c == EOF) {
    if (std::ferror(f_)) throw_io(str(path_.string(), ": read error: ", std::strerror(errno)));
    return false;
  }
  ++line_no_;
  for (; c != EOF && c != '\n'; c = getc_unlocked(f_)) {
    if (line.size() == max_bytes_) {
      throw_input(str(path_.string(), ":", line_no_, ": line longer than the limit of ", max_bytes_,
                      " bytes (refused after reading the limit; set SADI_MAX_LINE_BYTES to raise it)"));
    }
    line.push_back(static_cast<char>(c));
  }
  if (c == EOF && std::ferror(f_)) throw_io(str(path_.string(), ": read error: ", std::strerror(errno)));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

fs::path temp_sibling(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string suffix = str(".tmp-", ::getpid(), "-", counter++);
  // ".NAME.tmp-PID-N" must itself be a legal name: a long NAME keeps only its first bytes, so any
  // output name the file system takes (up to NAME_MAX bytes) gets a temporary sibling.
  std::string name = target.filename().string();
  const size_t room = NAME_MAX - 1 - suffix.size();
  if (name.size() > room) name.resize(room);
  return dir / str(".", name, suffix);
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
  const fs::path abs = fs::absolute(temp_, ec);
  slot_ = register_temp_file(ec ? temp_.string() : abs.string());
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
  unregister_temp_file(slot_);
}

void AtomicOutput::commit() {
  std::error_code ec;
  fs::rename(temp_, target_, ec);
  if (ec) throw_io(str(target_.string(), ": cannot rename the temporary file into place: ", ec.message()));
  committed_ = true;
  unregister_temp_file(slot_);
  slot_ = -1;
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
