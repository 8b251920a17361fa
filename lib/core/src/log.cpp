// The only translation unit that includes spdlog (see log.hpp).
#include "sadi/core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "sadi/core/error.hpp"

namespace sadi::log {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto lg = spdlog::stderr_color_mt("sadi");
    lg->set_pattern("[%H:%M:%S.%e] %^%l%$ %v");
    lg->set_level(spdlog::level::info);
    return lg;
  }();
  return l;
}

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::kTrace: return spdlog::level::trace;
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

Level parse_level(const std::string& name) {
  if (name == "trace") return Level::kTrace;
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  if (name == "off") return Level::kOff;
  throw_field(ErrorKind::kUsage, "log_level", ": expected one of trace, debug, info, warn, error, off; found '" + name + "'");
}

void set_level(Level level) { logger()->set_level(to_spd(level)); }
bool enabled(Level level) { return logger()->should_log(to_spd(level)); }
void debug(const std::string& m) { logger()->debug(m); }
void info(const std::string& m) { logger()->info(m); }
void warn(const std::string& m) { logger()->warn(m); }
void error(const std::string& m) { logger()->error(m); }

}  // namespace sadi::log
