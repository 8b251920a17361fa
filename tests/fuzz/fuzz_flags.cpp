// The numeric flags of every command (apps/sadi/options.hpp): cxxopts parses a fuzzed command
// line of int64, double and list flags, then the commands' checks run: bounded ranges, non-empty
// lists, numbers. Whatever is accepted must lie in its range and be finite where required.
#include <cmath>

#include "../../apps/sadi/options.hpp"
#include "fuzz_common.hpp"

namespace {

// NUL-separated arguments from the input (at most 16), after the program name.
std::vector<std::string> split_args(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"sadi fuzz"};
  std::string cur;
  for (size_t i = 0; i < size && args.size() < 17; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  if (!cur.empty() && args.size() < 17) args.push_back(cur);
  return args;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sadi::app;
  const auto args = split_args(data, size);
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  cxxopts::Options opts("sadi fuzz");
  opts.add_options()
      ("batch-size", "", cxxopts::value<int64_t>()->default_value("8"))
      ("max-new-tokens", "", cxxopts::value<int64_t>()->default_value("64"))
      ("max-pairs", "", cxxopts::value<int64_t>()->default_value("0"))
      ("seed", "", cxxopts::value<uint64_t>()->default_value("0"))
      ("temperature", "", cxxopts::value<double>()->default_value("0"))
      ("top-k", "", cxxopts::value<std::string>()->default_value("1,2"))
      ("delta", "", cxxopts::value<std::string>()->default_value("1"))
      ("dev-fraction", "", cxxopts::value<std::string>()->default_value("0.5"));
  try {
    const auto r = opts.parse(static_cast<int>(argv.size()), argv.data());
    sadi::fuzz::expect_clean([&] {
      const int64_t b = bounded(r, "batch-size", 1, 1 << 20);
      const int64_t n = bounded(r, "max-new-tokens", 1, 1 << 20);
      const int64_t p = bounded(r, "max-pairs", 0, int64_t{1} << 40);
      if (b < 1 || b > (1 << 20) || n < 1 || n > (1 << 20) || p < 0 || p > (int64_t{1} << 40)) __builtin_trap();
      (void)(b * n * 4096);  // the products the commands form stay far from overflow
      for (int64_t k : nonempty_list<int64_t>("top-k", r["top-k"].as<std::string>())) (void)k;
      const auto deltas = nonempty_list<double>("delta", r["delta"].as<std::string>());
      if (deltas.empty()) __builtin_trap();
      const double f = parse_number("--dev-fraction", r["dev-fraction"].as<std::string>());
      (void)f;
      (void)r["seed"].as<uint64_t>();
      (void)r["temperature"].as<double>();
    });
  } catch (const cxxopts::exceptions::exception&) {
    // a malformed command line: cxxopts' own message, exit 2 at main
  }
  return 0;
}
