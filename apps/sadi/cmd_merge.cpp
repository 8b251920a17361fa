// sadi merge: combine the shards of one `sadi eval --shard I/N` run into the results of the whole
// run (same fields, selection, oracle and intervals as an unsharded run; docs/eval.md).
#include <algorithm>
#include <iostream>

#include "commands.hpp"
#include "options.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/eval/report.hpp"
#include "sadi/eval/results.hpp"
#include "sadi/identify/merge_masks.hpp"
#include "sadi/io/mask_file.hpp"

namespace sadi::app {

int cmd_merge(const Args& args) {
  cxxopts::Options opts(args[0], "Combine the shard results of sadi eval --shard I/N into one results JSON, or the "
                                  "masks of sadi identify --shard I/N into one mask (.h5 shards; --out required).");
  opts.add_options()
      ("out", "merged results JSON or mask (written atomically)", cxxopts::value<std::string>())
      ("shards", "shard results files, or shard masks", cxxopts::value<std::vector<std::string>>());
  opts.parse_positional({"shards"});
  opts.positional_help("SHARD.json... | SHARD.h5...");
  add_common_options(opts);
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  if (!r.count("shards")) throw_usage("sadi merge: give the shard results files (see sadi merge --help)");
  std::vector<NamedInput> inputs;
  for (const auto& path : r["shards"].as<std::vector<std::string>>()) inputs.push_back({"the shards", path});
  const fs::path out = guarded_out(r, inputs);
  const auto& files = r["shards"].as<std::vector<std::string>>();
  if (std::all_of(files.begin(), files.end(), [](const std::string& f) { return fs::path(f).extension() == ".h5"; })) {
    if (out.empty()) throw_usage("sadi merge: mask shards need --out MASK.h5");
    std::vector<std::pair<std::string, MaskFile>> masks;
    for (const auto& f : files) masks.emplace_back(f, read_mask_file(f));
    const MaskFile merged = merge_mask_shards(masks, command_line(args));
    write_mask_file(out, merged);
    log::info(str("merge: ", files.size(), " mask shards, ", merged.provenance.pairs_used.value_or(0), " pairs -> ",
                  out.string()));
    return 0;
  }
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
