#pragma once
// Subcommands of the sadi binary. Each lives in its own cmd_*.cpp with its own options and
// returns an exit code; exceptions propagate to main, which maps them (docs/errors.md).
#include <string>
#include <vector>

#include <cxxopts.hpp>

namespace sadi::app {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);  // args[0] is "sadi COMMAND"
};

const std::vector<Command>& commands();

int cmd_info(const Args& args);
int cmd_identify(const Args& args);
int cmd_inspect(const Args& args);
int cmd_generate(const Args& args);
int cmd_eval(const Args& args);
int cmd_merge(const Args& args);
int cmd_tokenize(const Args& args);

// Options every subcommand shares (declared once): --log-level, --help.
void add_common_options(cxxopts::Options& opts);
// Parses args; prints help and returns false when --help was given. Applies --log-level.
bool parse_common(cxxopts::Options& opts, const Args& args, cxxopts::ParseResult& out);

}  // namespace sadi::app
