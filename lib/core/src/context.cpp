#include "sadi/core/context.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <thread>

#include "sadi/core/interrupt.hpp"

namespace sadi {
namespace {
thread_local std::string t_failed;  // the innermost operation an exception unwound through
}  // namespace

OperationContext::OperationContext(std::string what) : what_(std::move(what)), uncaught_(std::uncaught_exceptions()) {
  // a new operation starts: whatever an earlier exception unwound through was handled
  if (uncaught_ == 0) t_failed.clear();
}

OperationContext::~OperationContext() {
  // Unwinding: the first (innermost) context that sees the exception names it.
  if (std::uncaught_exceptions() > uncaught_ && t_failed.empty()) t_failed = what_;
}

std::string take_failed_operation() {
  std::string out;
  out.swap(t_failed);
  return out;
}

void pause_point(const char* name) {
  static bool paused = false;
  const char* want = std::getenv("SADI_PAUSE");
  if (paused || want == nullptr || std::string(want) != name) return;
  paused = true;
  std::raise(SIGSTOP);
  // Continued: wait (up to a minute) for the signal the test sends with the SIGCONT, so the work
  // left cannot finish first when the machine is slow to deliver it (Slurm's scancel sends
  // SIGCONT, then SIGTERM).
  for (int i = 0; i < 600 && !interrupted(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

void fault_point(const char* name) {
  const char* want = std::getenv("SADI_FAULT");
  if (want != nullptr && std::string(want) == name) throw std::out_of_range("map::at");
}

}  // namespace sadi
