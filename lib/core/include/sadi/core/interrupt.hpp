#pragma once
// SIGINT / SIGTERM: the first signal only sets a flag that long loops poll between batches, so a
// command can stop cleanly (identify: no output; eval: a flagged partial result it can resume
// from). A second signal ends the process at once with the default action; atomic writes still
// guarantee that no half-written output file appears under its final name (docs/errors.md).
#include <exception>
#include <string>

namespace sadi {

// Installs the handlers (idempotent). identify, eval and generate call it once their long run
// starts: from then on the first signal only sets the flag they poll.
void install_interrupt_handlers();

// Installs the handlers for a command that does not poll (main does, first thing): a signal
// removes the registered temporary files and ends the process with the default action.
void install_cleanup_handlers();

// Temporary files a signal that ends the process removes first (AtomicOutput registers its own),
// so no *.tmp-* is left behind even by a second Ctrl-C. register returns a slot, -1 when full.
int register_temp_file(const std::string& path);
void unregister_temp_file(int slot);

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
