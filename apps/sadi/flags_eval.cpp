// sadi eval's flags: their declaration and their mapping to an EvalJob (cmd_eval.cpp runs it).
#include "flags.hpp"
#include "model_options.hpp"
#include "options.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi::app {

void add_eval_options(cxxopts::Options& opts) {
  opts.add_options()
      ("model", "model directory", cxxopts::value<std::string>())
      ("task", "task file: JSON Lines with prompt, answer, optional choices and id (the test split)",
       cxxopts::value<std::string>())
      ("dev", "dev split file (same format); selection uses only its labels", cxxopts::value<std::string>())
      ("dev-fraction", "take a seeded dev split of this fraction from --task instead", cxxopts::value<double>())
      ("seed", "seed of the dev split, the random baseline and the bootstrap", cxxopts::value<uint64_t>()->default_value("0"))
      ("metric", "exact-match (the reference code's teacher-forced greedy match), choice (log-likelihood) "
       "or generate-em (greedy generation, TriviaQA-normalised match)",
       cxxopts::value<std::string>()->default_value("exact-match"))
      ("max-new-tokens", "generate-em: tokens to generate at most", cxxopts::value<int64_t>()->default_value("16"))
      ("stop", "generate-em: the answer ends before this string (repeatable; default: newline; '' for none)",
       cxxopts::value<std::vector<std::string>>())
      ("shard", "run shard I of N (1-based) of the items of each split; combine with sadi merge",
       cxxopts::value<std::string>())
      ("mask", "mask file from sadi identify", cxxopts::value<std::string>())
      ("site", "head, neuron, hidden or residual", cxxopts::value<std::string>()->default_value("head"))
      ("top-k", "comma-separated K values", cxxopts::value<std::string>()->default_value("1,2,4"))
      ("delta", "comma-separated delta values", cxxopts::value<std::string>()->default_value("4,9,19"))
      ("baselines", "comma-separated: none, fixed, fixed-dir, fixed-raw, random, caa, iti (docs/baselines.md)",
       cxxopts::value<std::string>()->default_value("none"))
      ("random-seeds", "random: draws of K random elements, each searched over the K x delta grid",
       cxxopts::value<int64_t>()->default_value("20"))
      ("caa-layers", "caa: candidate layers, one per grid point (default: every layer)",
       cxxopts::value<std::string>()->default_value(""))
      ("caa-multipliers", "caa: comma-separated multipliers of the residual mean difference",
       cxxopts::value<std::string>()->default_value("1,2,4,8,16"))
      ("iti-top-k", "iti: comma-separated numbers of heads (default: 1,2,4,...,32,48 up to the model's heads)", cxxopts::value<std::string>()->default_value(""))
      ("iti-alpha", "iti: comma-separated strengths alpha (shift alpha * sigma * theta)",
       cxxopts::value<std::string>()->default_value("1,5,10,15"))
      ("em-rule", "exact-match: reference (the reference code's rule) or lenient (docs/eval.md)",
       cxxopts::value<std::string>()->default_value("reference"))
      ("mode", "live or clamp", cxxopts::value<std::string>()->default_value("live"))
      ("separator", "text between prompt and answer", cxxopts::value<std::string>()->default_value(" "))
      ("batch-size", "rows (item x configuration [x choice]) per forward pass", cxxopts::value<int64_t>()->default_value("32"))
      ("prefix-cache-mb", "prefix sharing: prompts' K/V held at a time, in MiB",
       cxxopts::value<int64_t>()->default_value("256"))
      ("layer-sharing", "with prefix sharing: a row first steered in layer f runs layers f.. only, from its unsteered "
       "residual stream computed once per distinct row (docs/eval.md, \"Layer sharing\"); false: every layer",
       cxxopts::value<bool>()->default_value("true"))
      ("out", "results JSON (written atomically; an interrupted run leaves a partial result there)",
       cxxopts::value<std::string>())
      ("resume", "continue the partial result in --out left by an interrupted run of the same command")
      ("timing", "record seconds per configuration in the results (then they differ from run to run)");
}

EvalJob eval_job_from_flags(const cxxopts::ParseResult& r) {
  for (const char* k : {"model", "task"}) {
    if (!r.count(k)) throw_usage(str("sadi eval: missing --", k, " (see sadi eval --help)"));
  }
  if (r.count("dev") && r.count("dev-fraction")) throw_usage("give at most one of --dev and --dev-fraction");
  if (r.count("resume") && !r.count("out")) throw_usage("--resume needs --out (the partial result to continue)");
  EvalJob job;
  EvalRun& run = job.run;
  GridSpec& grid = job.grid;
  run.metric = parse_metric(r["metric"].as<std::string>());
  grid.common.mode = parse_mode(r["mode"].as<std::string>());
  run.batch_size = bounded(r, "batch-size", 1, 1 << 20);
  run.separator = r["separator"].as<std::string>();
  run.prefix_sharing = r["prefix-sharing"].as<bool>();
  run.layer_sharing = r["layer-sharing"].as<bool>();
  run.prefix_cache_bytes = bounded(r, "prefix-cache-mb", 1, 1 << 20) << 20;
  run.match_rule = parse_match_rule(r["em-rule"].as<std::string>());
  run.max_new_tokens = bounded(r, "max-new-tokens", 1, 1 << 20);
  if (r.count("stop")) run.stop = r["stop"].as<std::vector<std::string>>();
  if (r.count("shard")) job.shard = parse_shard(r["shard"].as<std::string>());
  job.seed = r["seed"].as<uint64_t>();
  job.timing = r.count("timing") > 0;
  job.site = r["site"].as<std::string>();
  grid.common.site = parse_site(job.site, "--site");
  job.caa_layers = r["caa-layers"].as<std::string>();
  grid.common.caa_layers = parse_list<int64_t>("--caa-layers", job.caa_layers);
  if (r.count("mask")) job.mask_file = r["mask"].as<std::string>();
  job.source.task = r["task"].as<std::string>();
  if (r.count("dev")) job.source.dev_file = r["dev"].as<std::string>();
  if (r.count("dev-fraction")) job.source.dev_fraction = r["dev-fraction"].as<double>();
  job.splits = load_splits(job.source, job.seed, job.shard);
  job.baselines = split(r["baselines"].as<std::string>(), ',');
  for (auto& b : job.baselines) {
    b = trim(b);
    if (b == "sadi" || parse_method(b, "baselines") == Method::kSadi) {
      throw_usage("--baselines: sadi is always evaluated (with --mask); list only baselines");
    }
  }
  grid.top_k = nonempty_list<int64_t>("top-k", r["top-k"].as<std::string>());
  grid.delta = nonempty_list<double>("delta", r["delta"].as<std::string>());
  grid.random_seeds = bounded(r, "random-seeds", 1, 10000);
  grid.caa_multipliers = nonempty_list<double>("caa-multipliers", r["caa-multipliers"].as<std::string>());
  const std::string iti_k = r["iti-top-k"].as<std::string>();
  if (!iti_k.empty()) grid.iti_top_k = nonempty_list<int64_t>("iti-top-k", iti_k);
  grid.iti_alpha = nonempty_list<double>("iti-alpha", r["iti-alpha"].as<std::string>());
  return job;
}

}  // namespace sadi::app
