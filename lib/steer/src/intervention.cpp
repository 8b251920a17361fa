#include "sadi/steer/intervention.hpp"

#include "sadi/core/named.hpp"

namespace sadi {
namespace {

// The one list of each vocabulary; names, parsing and the documented order come from here.
constexpr Named<Method> kMethods[] = {{Method::kNone, "none"},          {Method::kSadi, "sadi"},
                                      {Method::kFixed, "fixed"},        {Method::kFixedDir, "fixed-dir"},
                                      {Method::kFixedRaw, "fixed-raw"}, {Method::kRandom, "random"},
                                      {Method::kCaa, "caa"},            {Method::kIti, "iti"}};
constexpr Named<Mode> kModes[] = {{Mode::kLive, "live"}, {Mode::kClamp, "clamp"}};
constexpr Named<Positions> kPositions[] = {{Positions::kPromptLast, "prompt-last"},
                                           {Positions::kFromPromptLast, "from-prompt-last"},
                                           {Positions::kPromptAll, "prompt-all"},
                                           {Positions::kAll, "all"}};

}  // namespace

const char* method_name(Method m) { return name_of(kMethods, m); }
const char* mode_name(Mode m) { return name_of(kModes, m); }
const char* positions_name(Positions p) { return name_of(kPositions, p); }

const std::vector<Method>& all_methods() {
  static const std::vector<Method> all = [] {
    std::vector<Method> v;
    for (const auto& n : kMethods) v.push_back(n.value);
    return v;
  }();
  return all;
}

bool steers_after_prompt(Positions p) { return p == Positions::kFromPromptLast || p == Positions::kAll; }

Method parse_method(const std::string& s, const std::string& field) { return parse_named(kMethods, s, field); }
Mode parse_mode(const std::string& s, const std::string& field) { return parse_named(kModes, s, field); }
Positions parse_positions(const std::string& s, const std::string& field) { return parse_named(kPositions, s, field); }

}  // namespace sadi
