#pragma once
// Parsing helpers shared by the subcommands' options.
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "commands.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/strings.hpp"

namespace sadi::app {

// "1,2,4" -> {1, 2, 4}; "" -> {}. Doubles accept "inf" and "nan" so later checks can name them.
// Throws sadi::Error (usage) naming the flag.
template <typename T>
std::vector<T> parse_list(const std::string& flag, const std::string& s) {
  std::vector<T> out;
  if (trim(s).empty()) return out;
  for (const auto& part : split(s, ',')) {
    const std::string p = trim(part);
    try {
      size_t used = 0;
      T v;
      if constexpr (std::is_same_v<T, double>) {
        v = std::stod(p, &used);
      } else {
        v = std::stoll(p, &used);
      }
      if (used != p.size()) throw std::invalid_argument(p);
      out.push_back(v);
    } catch (const std::exception&) {
      throw_usage(str(flag, ": expected a comma-separated list of numbers, found '", s, "'"));
    }
  }
  return out;
}

// One number (see parse_list).
inline double parse_number(const std::string& flag, const std::string& s) {
  auto v = parse_list<double>(flag, s);
  if (v.size() != 1) throw_usage(str(flag, ": expected a number, found '", s, "'"));
  return v[0];
}

// Library errors name struct fields ("top_k", "caa.layers"); a command maps them to its flags.
using FlagNames = std::map<std::string, std::string>;

// Runs fn(); a sadi::Error about a field in `names` is rethrown naming the flag instead.
template <typename Fn>
auto with_flag_names(const FlagNames& names, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    auto it = names.find(e.field());
    if (e.field().empty() || it == names.end()) throw;
    throw Error(e.kind(), it->second + e.rest());
  }
}

// The command as typed, for provenance: "sadi identify --model ...".
inline std::string command_line(const Args& args) {
  std::string out = args[0];
  for (size_t i = 1; i < args.size(); ++i) out += " " + args[i];
  return out;
}

// The inputs named by `flags` that were given (for guard_output: inputs are never overwritten).
inline std::vector<NamedInput> inputs_of(const cxxopts::ParseResult& r, std::initializer_list<const char*> flags) {
  std::vector<NamedInput> out;
  for (const char* f : flags) {
    if (r.count(f)) out.push_back({str("--", f), r[f].as<std::string>()});
  }
  return out;
}

// The checked --out path (guard_output), or empty without --out.
inline fs::path guarded_out(const cxxopts::ParseResult& r, std::vector<NamedInput> inputs) {
  if (!r.count("out")) return {};
  return guard_output("--out", r["out"].as<std::string>(), inputs);
}

// An integer flag checked against [lo, hi] at parse time, so no later arithmetic can overflow.
// Throws sadi::Error (usage) naming the flag, the range and the value.
inline int64_t bounded(const cxxopts::ParseResult& r, const char* flag, int64_t lo, int64_t hi) {
  const auto v = r[flag].as<int64_t>();
  if (v < lo || v > hi) throw_usage(str("--", flag, ": expected an integer from ", lo, " to ", hi, ", found ", v));
  return v;
}

// A list flag that must not be empty (an empty list would silently plan nothing).
template <typename T>
std::vector<T> nonempty_list(const char* flag, const std::string& s) {
  auto v = parse_list<T>(str("--", flag), s);
  if (v.empty()) throw_usage(str("--", flag, ": expected at least one value, found an empty list"));
  return v;
}

}  // namespace sadi::app
