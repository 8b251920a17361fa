#pragma once
// Finding and opening sadi's plugins (libsadi_spm.so, libsadi_cuda.so): $ENV first, then next to
// the binary, then ../lib/sadi/ beside it, then the build tree.
#include <string>

namespace sadi {

// dlopen(FILE, flags) from the first place that has it, or null with `errors` listing each place
// tried and dlerror()'s answer there.
void* open_plugin(const std::string& file, const char* env, const char* build_path, int flags, std::string& errors);

}  // namespace sadi
