#pragma once
// Shared by the libFuzzer targets: each parser reads files, so an input is written to a file
// first; the only exception a parser may throw is sadi::Error (a clear message for the user).
// Anything else (another exception, a crash, a sanitizer report) is a bug that libFuzzer reports.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "sadi/core/error.hpp"

namespace sadi::fuzz {

// A per-process scratch directory under $TMPDIR (removed at exit).
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("sadi-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup;
  return dir;
}

inline std::filesystem::path write_input(const std::string& name, const uint8_t* data, size_t size) {
  auto path = scratch() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                static_cast<std::streamsize>(size));
  return path;
}

// Runs `f`; sadi::Error is the expected way to refuse bad input and must carry a message.
template <typename F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const sadi::Error& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
}

}  // namespace sadi::fuzz
