#pragma once
// A progress line on stderr for the long commands (identify, eval, generate): "label: done/total
// unit, rate unit/s, about T left", redrawn in place at most 4 times a second, only when stderr is
// a terminal and the log level shows info; silent in pipes, files and under --log-level warn, so
// logs of batch jobs stay clean. finish() (or the destructor) ends the line. Whatever the
// terminal, updates log "label: done/total unit" at debug level at most every 10 s (log_every)
// and at the end (for the logs of batch jobs: --log-level debug).
#include <chrono>
#include <cstdint>
#include <string>

namespace sadi {

// Whether stderr is a terminal (isatty).
bool stderr_is_terminal();

class ProgressLine {
 public:
  ProgressLine(std::string label, std::string unit);  // enabled: a terminal and log level <= info
  ProgressLine(std::string label, std::string unit, bool enabled);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  void update(int64_t done, int64_t total);
  void finish();
  void log_every(double seconds) { log_every_s_ = seconds; }  // 0: every update

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_, unit_;
  bool enabled_;
  bool drawn_ = false;
  double log_every_s_ = 10.0;
  Clock::time_point start_ = Clock::now(), last_ = start_, last_log_ = start_;
};

// "12 s", "3 min 20 s", "1 h 05 min".
std::string human_duration(double seconds);

}  // namespace sadi
