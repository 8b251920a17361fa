// sadi: one binary, subcommands dispatched here. The only place that turns exceptions into
// exit codes (docs/errors.md).
#include <iostream>
#include <set>

#include "commands.hpp"
#include "options.hpp"
#include "sadi/core/context.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/core/version.hpp"
#include "sadi/model/threads.hpp"

namespace sadi::app {

const std::vector<Command>& commands() {
  static const std::vector<Command> cmds = {
      {"info", "print a model directory's architecture, dimensions, sites and tokenizer", cmd_info},
      {"identify", "contrastive pairs -> ranked elements and masks (HDF5)", cmd_identify},
      {"inspect", "show a mask file: provenance, top elements, per-layer counts", cmd_inspect},
      {"generate", "generate text, optionally steered (sadi, fixed, random, caa; live or clamp)", cmd_generate},
      {"eval", "score a task over a K x delta grid and baselines; select on dev, report on test", cmd_eval},
      {"merge", "combine the shards of sadi eval or sadi identify --shard I/N into one result or mask", cmd_merge},
      {"tokenize", "token ids of text with a model's tokenizer or a tokenizer file", cmd_tokenize},
  };
  return cmds;
}

void add_common_options(cxxopts::Options& opts) {
  opts.add_options("common")
      ("log-level", "trace, debug, info, warn, error or off (logs go to stderr)",
       cxxopts::value<std::string>()->default_value("info"))
      ("threads", "CPU threads (0: the cores this process may use); set here, not by OMP_NUM_THREADS "
       "(docs/benchmarks.md, Threads)", cxxopts::value<int64_t>()->default_value("0"))
      ("h,help", "show this help");
}

namespace {
// cxxopts says "Argument 'X' failed to parse" without the flag: find the flag that was given X.
[[noreturn]] void rethrow_naming_the_flag(const Args& args, const std::string& what) {
  const size_t a = what.find("\xe2\x80\x98"), b = what.rfind("\xe2\x80\x99");  // 'X' in cxxopts' quotes
  const std::string value = a != std::string::npos && b != std::string::npos && b > a ? what.substr(a + 3, b - a - 3) : "";
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const size_t eq = arg.find('=');
    std::string flag;
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos && arg.substr(eq + 1) == value) flag = arg.substr(0, eq);
    if (arg.rfind("--", 0) == 0 && eq == std::string::npos && i + 1 < args.size() && args[i + 1] == value) flag = arg;
    if (!flag.empty()) {
      throw_usage(str(flag, ": cannot read '", value, "' as this flag's value (a number out of range, or not a number; "
                      "see --help)"));
    }
  }
  throw_usage(str(what, " (see --help)"));
}
}  // namespace

namespace {
// cxxopts reads `--flag false` for a boolean flag as `--flag` (true) and a stray argument
// "false": join such pairs into `--flag=false`, as the documentation writes them.
Args join_boolean_values(const cxxopts::Options& opts, const Args& args) {
  std::set<std::string> booleans, valued;  // valued: default true, so only a value turns it off
  for (const auto& group : opts.groups()) {
    for (const auto& o : opts.group_help(group).options) {
      if (!o.is_boolean) continue;
      for (const auto& name : o.l) {
        booleans.insert("--" + name);
        if (o.has_default && o.default_value == "true") valued.insert("--" + name);
      }
    }
  }
  static const std::set<std::string> words = {"true", "false", "True", "False", "t", "f", "T", "F", "1", "0"};
  Args out;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool next = i + 1 < args.size() && args[i + 1].rfind('-', 0) != 0;
    if (next && valued.count(args[i]) && !words.count(args[i + 1])) {
      throw_usage(str(args[i], ": expected true or false, found '", args[i + 1], "'"));
    }
    if (next && booleans.count(args[i]) && words.count(args[i + 1])) {
      out.push_back(args[i] + "=" + args[i + 1]);
      ++i;
    } else {
      out.push_back(args[i]);
    }
  }
  return out;
}
}  // namespace

bool parse_common(cxxopts::Options& opts, const Args& given, cxxopts::ParseResult& out) {
  const Args args = join_boolean_values(opts, given);
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    out = opts.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const cxxopts::exceptions::incorrect_argument_type& e) {
    rethrow_naming_the_flag(args, e.what());
  }
  if (!out.unmatched().empty()) {  // a value without its flag would otherwise be ignored silently
    throw_usage(str("unexpected argument '", out.unmatched().front(), "': every value follows its flag "
                    "(--flag VALUE or --flag=VALUE; see --help)"));
  }
  if (out.count("help")) {
    std::cout << opts.help() << std::flush;
    return false;
  }
  with_flag_names({{"log_level", "--log-level"}}, [&] { log::set_level(log::parse_level(out["log-level"].as<std::string>())); });
  const auto threads = bounded(out, "threads", 0, 4096);
  log::debug(str("cpu: ", configure_threads(static_cast<int>(threads))));
  return true;
}

namespace {

void print_usage(std::ostream& os) {
  os << "sadi " << version() << " - Semantics-Adaptive Dynamic Intervention for language models\n\n"
     << "Usage: sadi COMMAND [OPTIONS]\n       sadi COMMAND --help\n\nCommands:\n";
  for (const auto& c : commands()) {
    os << "  " << c.name << std::string(12 - std::string(c.name).size(), ' ') << c.summary << "\n";
  }
  os << "\nGlobal options:\n  -h, --help      show this help\n  --version       print the version\n"
     << "\nExit codes: 0 ok, 1 runtime failure, 2 usage error, 3 invalid input, 4 file I/O error,\n"
     << "130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP (eval: a partial result, see --resume).\n";
}

int run(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return static_cast<int>(ErrorKind::kUsage);
  }
  const std::string first = argv[1];
  if (first == "-h" || first == "--help" || first == "help") {
    print_usage(std::cout);
    return 0;
  }
  if (first == "--version" || first == "-V") {
    std::cout << "sadi " << version() << " (" << build_info() << ")\n";
    return 0;
  }
  for (const auto& c : commands()) {
    if (first == c.name) {
      Args args{std::string("sadi ") + c.name};
      for (int i = 2; i < argc; ++i) args.emplace_back(argv[i]);
      return c.run(args);
    }
  }
  throw_usage("unknown command '" + first + "' (see sadi --help)");
}

}  // namespace
}  // namespace sadi::app

int main(int argc, char** argv) {
  sadi::install_cleanup_handlers();  // a signal removes temporary files before it ends the process
  try {
    return sadi::app::run(argc, argv);
  } catch (const sadi::Interrupted& e) {
    std::cerr << "sadi: " << e.what() << "\n";
    return e.exit_code();
  } catch (const sadi::Error& e) {
    std::cerr << "sadi: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "sadi: error: " << e.what() << " (see --help)\n";
    return static_cast<int>(sadi::ErrorKind::kUsage);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (what.find("can't allocate memory") != std::string::npos || what.find("out of memory") != std::string::npos) {
      std::cerr << "sadi: error: out of memory: lower --batch-size\n";
      return static_cast<int>(sadi::ErrorKind::kRuntime);
    }
    // Not one of sadi's own errors: a library's exception that no check of sadi's anticipated.
    // Say what sadi was doing (the innermost OperationContext it left) and that it is a bug.
    const std::string op = sadi::take_failed_operation();
    std::cerr << "sadi: error: " << (op.empty() ? "" : op + ": ") << "internal error: "
              << what.substr(0, what.find('\n'))  // torch appends a backtrace
              << " (an exception none of sadi's checks caught; please report it with the command)\n";
    return static_cast<int>(sadi::ErrorKind::kRuntime);
  }
}
