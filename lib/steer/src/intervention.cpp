#include "sadi/steer/intervention.hpp"

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {
namespace {

template <typename E>
struct Named {
  E value;
  const char* name;
};

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

template <typename E, size_t N>
const char* name_of(const Named<E> (&table)[N], E v) {
  for (const auto& n : table) {
    if (n.value == v) return n.name;
  }
  return "?";
}

template <typename E, size_t N>
E parse_named(const Named<E> (&table)[N], const std::string& s, const std::string& field) {
  std::string names;
  for (size_t i = 0; i < N; ++i) {
    if (s == table[i].name) return table[i].value;
    names += str(i == 0 ? "" : (i + 1 == N ? " or " : ", "), table[i].name);
  }
  throw_field(ErrorKind::kUsage, field, str(": expected ", names, ", found '", s, "'"));
}

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

Positions default_positions(Method m) {
  return m == Method::kCaa || m == Method::kIti ? Positions::kFromPromptLast : Positions::kPromptLast;
}

bool steers_after_prompt(Positions p) { return p == Positions::kFromPromptLast || p == Positions::kAll; }

Method parse_method(const std::string& s, const std::string& field) { return parse_named(kMethods, s, field); }
Mode parse_mode(const std::string& s, const std::string& field) { return parse_named(kModes, s, field); }
Positions parse_positions(const std::string& s, const std::string& field) { return parse_named(kPositions, s, field); }

}  // namespace sadi
