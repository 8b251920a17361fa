#pragma once
namespace sadi {
// The tool version (CMake project version) and the git description at configure time.
const char* version();
const char* build_info();
}  // namespace sadi
