// sadi merge: combine the shards of one `sadi eval --shard I/N` run into the results of the whole
// run (same fields, selection, oracle and intervals as an unsharded run; docs/eval.md).
#include <iostream>

#include "commands.hpp"
#include "options.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/eval/report.hpp"
#include "sadi/eval/results.hpp"

namespace sadi::app {

int cmd_merge(const Args& args) {
  cxxopts::Options opts(args[0], "Combine the shard results of sadi eval --shard I/N into one results JSON.");
  opts.add_options()
      ("out", "merged results JSON (written atomically)", cxxopts::value<std::string>())
      ("shards", "shard results files", cxxopts::value<std::vector<std::string>>());
  opts.parse_positional({"shards"});
  opts.positional_help("SHARD.json...");
  add_common_options(opts);
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  if (!r.count("shards")) throw_usage("sadi merge: give the shard results files (see sadi merge --help)");
  std::vector<NamedInput> inputs;
  for (const auto& path : r["shards"].as<std::vector<std::string>>()) inputs.push_back({"the shards", path});
  const fs::path out = guarded_out(r, inputs);
  std::vector<ShardResult> shards;
  for (const auto& path : r["shards"].as<std::vector<std::string>>()) {
    shards.push_back({path, parse_json(read_text_file(path), path)});
  }
  EvalResult merged = merge_shards(shards);
  merged.command_line = command_line(args);
  print_table(std::cout, merged);
  if (!out.empty()) write_file_atomic(out, dump_json(encode_result(merged), 2) + "\n");
  return 0;
}

}  // namespace sadi::app
