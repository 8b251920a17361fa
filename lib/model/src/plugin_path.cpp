#include "plugin_path.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace sadi {
namespace {

std::string self_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&self_dir), &info) && info.dli_fname) {
    return std::filesystem::path(info.dli_fname).parent_path().string();
  }
  return ".";
}

}  // namespace

void* open_plugin(const std::string& file, const char* env, const char* build_path, int flags, std::string& errors) {
  std::vector<std::string> candidates;
  if (const char* e = std::getenv(env); e != nullptr && *e != '\0') candidates.emplace_back(e);
  const std::string dir = self_dir();
  candidates.push_back(dir + "/" + file);
  candidates.push_back(dir + "/../lib/sadi/" + file);
  if (build_path != nullptr && *build_path != '\0') candidates.emplace_back(build_path);
  for (const auto& c : candidates) {
    if (void* h = dlopen(c.c_str(), flags)) return h;
    const char* why = dlerror();
    errors += "\n  " + c + ": " + (why != nullptr ? why : "?");
  }
  return nullptr;
}

}  // namespace sadi
