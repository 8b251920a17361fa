#include "sadi/core/interrupt.hpp"

#include <atomic>
#include <csignal>
#include <cstring>

#include <unistd.h>

#include "sadi/core/strings.hpp"

namespace sadi {
namespace {

std::atomic<int> g_signal{0};
std::atomic<bool> g_polling{false};
static_assert(std::atomic<int>::is_always_lock_free, "the handler needs a lock-free flag");

// Registered temporary files: fixed storage, so the handler touches no allocator (unlink is
// async-signal-safe). A slot is published by its `used` flag after its path is written.
constexpr int kSlots = 32;
constexpr size_t kPathMax = 4096;
struct TempSlot {
  std::atomic<bool> claimed{false};
  std::atomic<bool> used{false};
  char path[kPathMax];
};
TempSlot g_temps[kSlots];

void remove_temp_files() {
  for (auto& t : g_temps) {
    if (t.used.load()) ::unlink(t.path);
  }
}

extern "C" void on_signal(int sig) {
  if (g_polling.load() && g_signal.load() == 0) {
    g_signal.store(sig);  // first signal while a command polls: stop cleanly between batches
    return;
  }
  // SIGTERM and SIGHUP again ask for the same clean stop: a scheduler signals every process of a
  // job, a wrapper passes it on, the time limit follows a warning signal (Slurm: --signal), and
  // SIGKILL is theirs to end a process at once. A second SIGINT is a user pressing Ctrl-C again.
  if (g_polling.load() && sig != SIGINT) return;
  // No polling command, or a second SIGINT (the user insists): clean up, default action now.
  remove_temp_files();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install(bool polling) {
  g_polling.store(polling || g_polling.load());
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
}

}  // namespace

void install_interrupt_handlers() { install(true); }

void install_cleanup_handlers() { install(false); }

int register_temp_file(const std::string& path) {
  if (path.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (!g_temps[i].claimed.compare_exchange_strong(expected, true)) continue;
    std::memcpy(g_temps[i].path, path.c_str(), path.size() + 1);
    g_temps[i].used.store(true);
    return i;
  }
  return -1;
}

void unregister_temp_file(int slot) {
  if (slot < 0 || slot >= kSlots) return;
  g_temps[slot].used.store(false);
  g_temps[slot].claimed.store(false);
}

bool interrupted() { return g_signal.load(std::memory_order_relaxed) != 0; }

int interrupt_signal() { return g_signal.load(); }

void request_interrupt(int sig) { g_signal.store(sig); }

std::string signal_name(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  if (sig == SIGHUP) return "SIGHUP";
  return str("signal ", sig);
}

}  // namespace sadi
