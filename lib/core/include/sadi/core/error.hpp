#pragma once
// Errors thrown inside the library; only apps/ turns them into exit codes.
#include <stdexcept>
#include <string>

namespace sadi {

// What went wrong, which decides the exit code at main (docs/errors.md).
enum class ErrorKind {
  kUsage = 2,     // bad command line
  kInput = 3,     // a file or value given by the user is malformed or inconsistent
  kIo = 4,        // a file cannot be read or written
  kRuntime = 1,   // anything else (backend failures, internal checks)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  // An error about one field of a library struct (e.g. "caa.layers"): the message is field + rest,
  // and a command can name its own flag instead (apps/sadi/options.hpp, FlagNames).
  Error(ErrorKind kind, const std::string& field, const std::string& rest)
      : std::runtime_error(field + rest), kind_(kind), field_(field), rest_(rest) {}
  ErrorKind kind() const { return kind_; }
  int exit_code() const { return static_cast<int>(kind_); }
  const std::string& field() const { return field_; }  // empty: not about one field
  const std::string& rest() const { return rest_; }

 private:
  ErrorKind kind_;
  std::string field_, rest_;
};

[[noreturn]] inline void throw_usage(const std::string& m) { throw Error(ErrorKind::kUsage, m); }
[[noreturn]] inline void throw_input(const std::string& m) { throw Error(ErrorKind::kInput, m); }
[[noreturn]] inline void throw_io(const std::string& m) { throw Error(ErrorKind::kIo, m); }
[[noreturn]] inline void throw_runtime(const std::string& m) { throw Error(ErrorKind::kRuntime, m); }
// A bad value in `field` of a library struct; `rest` continues the message (": expected ...").
[[noreturn]] inline void throw_field(ErrorKind k, const std::string& field, const std::string& rest) {
  throw Error(k, field, rest);
}

}  // namespace sadi
