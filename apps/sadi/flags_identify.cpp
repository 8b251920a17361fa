// sadi identify's flags: their declaration and their mapping to an IdentifyJob
// (cmd_identify.cpp runs it).
#include "flags.hpp"
#include "options.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi::app {

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

IdentifyJob identify_job_from_flags(const cxxopts::ParseResult& r) {
  for (const char* k : {"model", "pairs", "out"}) {
    if (!r.count(k)) throw_usage(str("sadi identify: missing --", k, " (see sadi identify --help)"));
  }
  IdentifyJob job;
  IdentifyOptions& o = job.options;
  o.sites = parse_sites(r["sites"].as<std::string>(), "--sites");
  o.position = parse_position(r["position"].as<std::string>());
  o.rank = parse_rank(r["rank"].as<std::string>());
  o.top_k = r["top-k"].as<int64_t>();
  o.separator = r["separator"].as<std::string>();
  o.batch_size = bounded(r, "batch-size", 1, 1 << 20);
  o.prefix_sharing = r["prefix-sharing"].as<bool>();
  o.max_length = bounded(r, "max-length", 0, int64_t{1} << 40);
  o.strict = r.count("strict") > 0;
  o.strip = r.count("no-strip") == 0;
  o.iti = r.count("no-iti") == 0;
  o.iti_val_fraction = r["iti-val-fraction"].as<double>();
  o.bootstrap = bounded(r, "bootstrap", 0, 100000);
  o.seed = static_cast<uint64_t>(r["seed"].as<int64_t>());
  job.max_pairs = bounded(r, "max-pairs", 0, int64_t{1} << 40);
  if (r.count("shard")) job.shard = parse_shard(r["shard"].as<std::string>());
  job.pairs_file = r["pairs"].as<std::string>();
  return job;
}

}  // namespace sadi::app
