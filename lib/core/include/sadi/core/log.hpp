#pragma once
// Logging facade. spdlog stays inside log.cpp: torch 2.x ships its own fmt headers, which
// clash with the system fmt that spdlog uses, so no header here may include either.
// Logs go to stderr; stdout carries only program output.
#include <string>

namespace sadi::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// Parses "trace|debug|info|warn|error|off"; throws sadi::Error (usage) otherwise.
Level parse_level(const std::string& name);
void set_level(Level level);
bool enabled(Level level);

void debug(const std::string& message);
void info(const std::string& message);
void warn(const std::string& message);
void error(const std::string& message);

}  // namespace sadi::log
