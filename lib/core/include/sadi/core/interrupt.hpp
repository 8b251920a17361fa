#pragma once
// SIGINT / SIGTERM: the first signal only sets a flag that long loops poll between batches, so a
// command can stop cleanly (identify: no output; eval: a flagged partial result it can resume
// from). A second signal ends the process at once with the default action; atomic writes still
// guarantee that no half-written output file appears under its final name (docs/errors.md).
#include <exception>
#include <string>

namespace sadi {

// Installs the handlers (idempotent). identify and eval call it once their long run starts.
void install_interrupt_handlers();

// True once SIGINT or SIGTERM arrived (or request_interrupt was called).
bool interrupted();

// The signal that arrived (SIGINT, SIGTERM), 0 when none.
int interrupt_signal();

// Behave as if `sig` had arrived (0 clears the flag); for tests.
void request_interrupt(int sig);

// "SIGINT" / "SIGTERM" / "signal N".
std::string signal_name(int sig);

// Thrown by commands that stop because of an interruption; main exits with 128 + signal.
class Interrupted : public std::exception {
 public:
  Interrupted(int sig, std::string what) : sig_(sig), what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }
  int signal() const { return sig_; }
  int exit_code() const { return 128 + sig_; }

 private:
  int sig_;
  std::string what_;
};

}  // namespace sadi
