// sadi identify: contrastive pairs -> ranked elements and masks in an HDF5 file.
#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>

#include "commands.hpp"
#include "model_options.hpp"
#include "options.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/progress.hpp"
#include "sadi/core/sha256.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/core/version.hpp"
#include "sadi/eval/job.hpp"
#include "sadi/identify/identify.hpp"
#include "sadi/io/mask_file.hpp"
#include "sadi/model/tensor_types.hpp"
#include "sadi/steer/planner.hpp"

namespace sadi::app {
namespace {

// Progress: a line redrawn on a terminal (ProgressLine), and at most every 10 s a debug log
// line (for logs of batch jobs: --log-level debug).
class Progress {
 public:
  void operator()(int64_t done, int64_t total) {
    line_.update(done, total);
    auto now = std::chrono::steady_clock::now();
    if (done < total && std::chrono::duration<double>(now - last_).count() < 10.0) return;
    last_ = now;
    log::debug(str("identify: ", done, "/", total, " pairs"));
  }
  void finish() { line_.finish(); }

 private:
  ProgressLine line_{"identify", "pairs"};
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

void add_identify_options(cxxopts::Options& opts) {
  opts.add_options()
      ("model", "model directory", cxxopts::value<std::string>())
      ("pairs", "pairs file: JSON Lines with prompt, positive, negative (optional id)", cxxopts::value<std::string>())
      ("out", "output mask file (HDF5), written atomically", cxxopts::value<std::string>())
      ("sites", "comma-separated sites", cxxopts::value<std::string>()->default_value("head,neuron,hidden,residual"))
      ("position", "where activations are read: answer-last (the reference code) or prompt-last",
       cxxopts::value<std::string>()->default_value("answer-last"))
      ("rank", "ranking rule: signed (mean difference, descending) or abs (|mean difference|)",
       cxxopts::value<std::string>()->default_value("signed"))
      ("top-k", "also store a binary mask of the top K elements per site (0: none)",
       cxxopts::value<int64_t>()->default_value("0"))
      ("separator", "text between prompt and answer", cxxopts::value<std::string>()->default_value(" "))
      ("max-pairs", "use at most N pairs, in file order (0: all)", cxxopts::value<int64_t>()->default_value("0"))
      ("max-length", "skip pairs longer than N tokens (0: the model's max_positions)",
       cxxopts::value<int64_t>()->default_value("0"))
      ("strict", "a pair over the length limit is an error instead of skipped")
      ("batch-size", "pairs per batch (each pair is two sequences)", cxxopts::value<int64_t>()->default_value("8"))
      ("shard", "use shard I of N (1-based) of the pairs (file positions p with p % N == I - 1) and keep the "
       "statistics that sadi merge combines (no ITI probes or bootstrap: they need every pair)",
       cxxopts::value<std::string>())
      ("no-strip", "keep whitespace around prompt and answers (the reference code strips them)")
      ("no-iti", "skip ITI's per-head directions and probes (head site)")
      ("iti-val-fraction", "share of the pairs held out to score ITI's probes",
       cxxopts::value<double>()->default_value("0.2"))
      ("bootstrap", "resample the pairs N times: the ranking's stability (top-K overlap, selection frequency)",
       cxxopts::value<int64_t>()->default_value("0"))
      ("seed", "seed of ITI's held-out pairs and of the bootstrap resamples",
       cxxopts::value<int64_t>()->default_value("0"));
}

// A warning for each site whose top-K would change much with other pairs.
void warn_unstable(const MaskFile& mask, int64_t top_k) {
  for (const auto& s : mask.sites) {
    for (const auto& w : stability_warnings(s, {top_k})) {
      log::warn(str("identify: ", w, "; more pairs or a smaller K would make it firmer"));
    }
  }
}

}  // namespace

int cmd_identify(const Args& args) {
  cxxopts::Options opts(args[0], "Find the elements that separate right from wrong answers (SADI steps 1-2).");
  add_identify_options(opts);
  add_model_options(opts);
  add_prefix_sharing_option(opts, "true: each prompt's K/V is computed once for both sequences of its pair "
                            "(docs/identify.md); false: every sequence runs its whole prompt");
  add_common_options(opts);
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  for (const char* k : {"model", "pairs", "out"}) {
    if (!r.count(k)) throw_usage(str("sadi identify: missing --", k, " (see sadi identify --help)"));
  }
  IdentifyOptions o;
  o.sites = parse_sites(r["sites"].as<std::string>(), "--sites");
  o.position = parse_position(r["position"].as<std::string>());
  o.rank = parse_rank(r["rank"].as<std::string>());
  o.top_k = r["top-k"].as<int64_t>();
  if (o.top_k < 0) throw_usage("--top-k: expected 0 or a positive integer");
  o.separator = r["separator"].as<std::string>();
  o.batch_size = bounded(r, "batch-size", 1, 1 << 20);
  o.prefix_sharing = r["prefix-sharing"].as<bool>();
  o.max_length = bounded(r, "max-length", 0, int64_t{1} << 40);
  o.strict = r.count("strict") > 0;
  o.strip = r.count("no-strip") == 0;
  o.iti = r.count("no-iti") == 0;
  o.iti_val_fraction = r["iti-val-fraction"].as<double>();
  if (!(o.iti_val_fraction > 0 && o.iti_val_fraction < 1)) {
    throw_usage(str("--iti-val-fraction: expected a number between 0 and 1 (exclusive), found ", o.iti_val_fraction));
  }
  o.bootstrap = bounded(r, "bootstrap", 0, 100000);
  o.seed = static_cast<uint64_t>(r["seed"].as<int64_t>());
  const int64_t max_pairs = bounded(r, "max-pairs", 0, int64_t{1} << 40);
  Shard shard;
  if (r.count("shard")) {
    shard = parse_shard(r["shard"].as<std::string>());
    if (o.bootstrap > 0) throw_usage("--bootstrap needs every pair: run it unsharded, or drop --shard");
    if (o.iti && r.count("no-iti") == 0) {
      log::info("identify: --shard: no ITI probes (they need every pair; the merged mask has none either)");
    }
    o.iti = false;
    o.keep_stats = true;
  }
  torch::manual_seed(static_cast<uint64_t>(r["seed"].as<int64_t>()));

  const fs::path out_path = guarded_out(r, inputs_of(r, {"model", "pairs"}));
  const fs::path pairs_path = r["pairs"].as<std::string>();
  // Check the output location before the long run.
  auto pairs = read_pairs(pairs_path);
  const auto pairs_in_file = static_cast<int64_t>(pairs.size());
  if (max_pairs > 0 && max_pairs < pairs_in_file) pairs.resize(static_cast<size_t>(max_pairs));
  if (!shard.whole()) {
    std::vector<Pair> mine;
    for (size_t p = 0; p < pairs.size(); ++p) {
      if (static_cast<int64_t>(p) % shard.count == shard.index - 1) mine.push_back(std::move(pairs[p]));
    }
    if (mine.empty()) throw_input(str("--shard ", shard.index, "/", shard.count, ": no pairs (", pairs.size(), " in all)"));
    pairs = std::move(mine);
  }
  auto model = load_model(r["model"].as<std::string>(), load_options(r));
  auto tok = load_tokenizer(model->info());
  // From here on SIGINT/SIGTERM stop the run cleanly between batches (docs/errors.md); the
  // other commands keep the default action.
  install_interrupt_handlers();
  log::info(str("identify: ", pairs.size(), " pairs from ", pairs_path.string(), ", sites ",
                r["sites"].as<std::string>(), ", batch ", o.batch_size, " on ", model->device().str()));
  IdentifyStats stats;
  Progress progress;
  MaskFile mask;
  mask.sites = identify(*model, *tok, pairs, o, stats, std::ref(progress));
  progress.finish();

  const ModelInfo& info = model->info();
  auto& text = mask.provenance.text;
  auto& num = mask.provenance.integer;
  text["model_fingerprint"] = info.fingerprint;
  text["model_dir"] = fs::absolute(info.dir).string();
  text["architecture"] = info.architecture;
  text["pairs_file"] = fs::absolute(pairs_path).string();
  text["pairs_sha256"] = sha256_file(pairs_path);
  text["position"] = position_name(o.position);
  text["rank"] = rank_name(o.rank);
  text["separator"] = o.separator;
  text["dtype"] = dtype_name(model->dtype());
  text["device"] = model->device().str();
  text["tool_version"] = str("sadi ", version());
  text["command_line"] = command_line(args);
  text["skipped_ids"] = join(stats.skipped_ids, ",");
  text["strip"] = o.strip ? "true" : "false";
  text["batch_invariant"] = model->batch_invariant() ? "true" : "false";
  text["prefix_sharing"] = o.prefix_sharing ? "true" : "false";
  if (!shard.whole()) text["shard"] = str(shard.index, "/", shard.count);
  if (o.iti) text["iti_val_fraction"] = str(o.iti_val_fraction);
  num["bootstrap"] = o.bootstrap;
  num["n_layers"] = info.n_layers;
  num["pairs_in_file"] = pairs_in_file;
  num["pairs_used"] = stats.used;
  num["pairs_skipped"] = stats.skipped;
  num["batch_size"] = o.batch_size;
  num["seed"] = r["seed"].as<int64_t>();
  num["max_length"] = o.max_length;
  write_mask_file(out_path, mask);
  warn_unstable(mask, o.top_k);
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << "identify: " << stats.used << " pairs used, " << stats.skipped
     << " skipped (too long), " << stats.seconds << " s, " << static_cast<double>(stats.used) / stats.seconds
     << " pairs/s -> " << out_path.string();
  log::info(os.str());
  return 0;
}

}  // namespace sadi::app
