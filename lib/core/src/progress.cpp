#include "sadi/core/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "sadi/core/log.hpp"

namespace sadi {

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

std::string human_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  std::ostringstream os;
  if (s < 60) {
    os << s << " s";
  } else if (s < 3600) {
    os << s / 60 << " min " << s % 60 << " s";
  } else {
    os << s / 3600 << " h " << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << " min";
  }
  return os.str();
}

ProgressLine::ProgressLine(std::string label, std::string unit)
    : ProgressLine(std::move(label), std::move(unit), stderr_is_terminal() && log::enabled(log::Level::kInfo)) {}

ProgressLine::ProgressLine(std::string label, std::string unit, bool enabled)
    : label_(std::move(label)), unit_(std::move(unit)), enabled_(enabled) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(int64_t done, int64_t total) {
  const auto now = Clock::now();
  if (done >= total || std::chrono::duration<double>(now - last_log_).count() >= log_every_s_) {
    last_log_ = now;
    log::debug(label_ + ": " + std::to_string(done) + "/" + std::to_string(total) + " " + unit_);
  }
  if (!enabled_) return;
  if (drawn_ && done < total && std::chrono::duration<double>(now - last_).count() < 0.25) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  std::ostringstream os;
  os << "\r" << label_ << ": " << done << "/" << total << " " << unit_ << ", " << std::fixed << std::setprecision(1)
     << rate << " " << unit_ << "/s, " << (done < total && rate > 0 ? "about " + human_duration(static_cast<double>(total - done) / rate) + " left" : "done")
     << "\x1b[K";  // clear the rest of the line
  std::fputs(os.str().c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::finish() {
  if (!drawn_) return;
  std::fputs("\n", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace sadi
