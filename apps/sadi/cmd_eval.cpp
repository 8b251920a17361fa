// sadi eval: score a task without and with steering over a K x delta grid and baselines, all
// configurations sharing batches; select on dev, report on test (docs/eval.md). Flags become an
// EvalJob (lib/eval/job.hpp); the outcome becomes the results file and the table.
#include <iostream>

#include "commands.hpp"
#include "model_options.hpp"
#include "options.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/eval/checkpoint.hpp"
#include "sadi/eval/job.hpp"
#include "sadi/eval/report.hpp"
#include "sadi/io/mask_file.hpp"
#include "sadi/model/mask_check.hpp"
#include "sadi/steer/calibration.hpp"
#include "sadi/steer/planner.hpp"

namespace sadi::app {
namespace {

const FlagNames kEvalFlags{{"mode", "--mode"},
                           {"top_k", "--top-k"},
                           {"iti_top_k", "--iti-top-k"},
                           {"iti_alpha", "--iti-alpha"},
                           {"caa_multipliers", "--caa-multipliers"},
                           {"delta", "--delta"},
                           {"caa.layers", "--caa-layers"},
                           {"shard", "--shard"},
                           {"dev_fraction", "--dev-fraction"},
                           {"baselines", "--baselines"},
                           {"random_seeds", "--random-seeds"},
                           {"calibration", "--dev or --dev-fraction"},
                           {"mask", "--mask"}};

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
      ("iti-top-k", "iti: comma-separated numbers of heads (default: --top-k)", cxxopts::value<std::string>()->default_value(""))
      ("iti-alpha", "iti: comma-separated strengths alpha (shift alpha * sigma * theta)",
       cxxopts::value<std::string>()->default_value("1,5,10,15"))
      ("em-rule", "exact-match: reference (the reference code's rule) or lenient (docs/eval.md)",
       cxxopts::value<std::string>()->default_value("reference"))
      ("mode", "live or clamp", cxxopts::value<std::string>()->default_value("live"))
      ("separator", "text between prompt and answer", cxxopts::value<std::string>()->default_value(" "))
      ("batch-size", "rows (item x configuration [x choice]) per forward pass", cxxopts::value<int64_t>()->default_value("32"))
      ("prefix-cache-mb", "prefix sharing: prompts' K/V held at a time, in MiB",
       cxxopts::value<int64_t>()->default_value("256"))
      ("out", "results JSON (written atomically; an interrupted run leaves a partial result there)",
       cxxopts::value<std::string>())
      ("resume", "continue the partial result in --out left by an interrupted run of the same command")
      ("timing", "record seconds per configuration in the results (then they differ from run to run)");
}

// The scoring options and the items (before the model is loaded: bad input fails fast).
EvalJob job_from_flags(const cxxopts::ParseResult& r) {
  EvalJob job;
  EvalRun& run = job.run;
  run.metric = parse_metric(r["metric"].as<std::string>());
  job.mode = parse_mode(r["mode"].as<std::string>());
  run.batch_size = bounded(r, "batch-size", 1, 1 << 20);
  run.separator = r["separator"].as<std::string>();
  run.prefix_sharing = r["prefix-sharing"].as<bool>();
  run.prefix_cache_bytes = bounded(r, "prefix-cache-mb", 1, 1 << 20) << 20;
  run.match_rule = parse_match_rule(r["em-rule"].as<std::string>());
  run.max_new_tokens = bounded(r, "max-new-tokens", 1, 1 << 20);
  if (r.count("stop")) run.stop = r["stop"].as<std::vector<std::string>>();
  if (r.count("shard")) job.shard = parse_shard(r["shard"].as<std::string>());
  job.seed = r["seed"].as<uint64_t>();
  job.timing = r.count("timing") > 0;
  job.site = r["site"].as<std::string>();
  job.caa_layers = r["caa-layers"].as<std::string>();
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
  job.top_k = nonempty_list<int64_t>("top-k", r["top-k"].as<std::string>());
  job.delta = nonempty_list<double>("delta", r["delta"].as<std::string>());
  job.random_seeds = bounded(r, "random-seeds", 1, 10000);
  job.caa_multipliers = nonempty_list<double>("caa-multipliers", r["caa-multipliers"].as<std::string>());
  const std::string iti_k = r["iti-top-k"].as<std::string>();
  job.iti_top_k = iti_k.empty() ? job.top_k : nonempty_list<int64_t>("iti-top-k", iti_k);
  job.iti_alpha = nonempty_list<double>("iti-alpha", r["iti-alpha"].as<std::string>());
  return job;
}

// The grid: the unsteered point, then SADI and the baselines (with --mask).
void plan_points(const cxxopts::ParseResult& r, Model& model, const Tokenizer& tok, EvalJob& job) {
  GridSpec grid;
  grid.top_k = job.top_k;
  grid.delta = job.delta;
  grid.random_seeds = job.random_seeds;
  grid.caa_multipliers = job.caa_multipliers;
  grid.iti_top_k = job.iti_top_k;
  grid.iti_alpha = job.iti_alpha;
  grid.common.mode = job.mode;
  grid.common.seed = job.seed;
  MaskFile mask;
  MaskSource source;
  Calibration calibration;
  if (r.count("mask")) {
    const fs::path mask_path = r["mask"].as<std::string>();
    mask = read_mask_file(mask_path);
    check_mask_matches_model(mask, mask_path, model.info());
    source = {&mask, mask_path.string()};
    job.mask = mask_record(mask_path, mask);
    grid.methods.push_back(Method::kSadi);
    for (const auto& b : job.baselines) {
      if (b != "none") grid.methods.push_back(parse_method(b));
    }
    grid.common.site = parse_site(job.site, "--site");
    if (const SiteScores* s = mask.find(grid.common.site)) {
      for (const auto& w : stability_warnings(*s, job.top_k)) log::warn(str("eval: ", w));
    }
    grid.common.caa_layers = parse_list<int64_t>("--caa-layers", job.caa_layers);
    if (needs_calibration(grid.methods) && job.splits.has_dev()) {
      calibration = calibrate(model, tok, job.splits.dev_prompts_all, grid.common.site, job.run.batch_size, "the dev split");
      source.calibration = &calibration;
      job.calibration_items = static_cast<int64_t>(job.splits.dev_prompts_all.size());
    }
  } else if (job.baselines != std::vector<std::string>{"none"}) {
    throw_usage("--baselines other than none need --mask");
  }
  job.points = plan_grid(grid, source, {&model.info(), model.device(), model.dtype()});
}

}  // namespace

int cmd_eval(const Args& args) {
  cxxopts::Options opts(args[0], "Score a task with and without steering: K x delta grid, baselines, dev selection.");
  add_eval_options(opts);
  add_model_options(opts);
  add_prefix_sharing_option(opts, "true: each prompt's K/V is computed once and reused by every configuration and "
                            "choice of its item (docs/eval.md); false: every row runs its whole prompt");
  add_common_options(opts);
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  for (const char* k : {"model", "task"}) {
    if (!r.count(k)) throw_usage(str("sadi eval: missing --", k, " (see sadi eval --help)"));
  }
  if (r.count("dev") && r.count("dev-fraction")) throw_usage("give at most one of --dev and --dev-fraction");
  if (r.count("resume") && !r.count("out")) throw_usage("--resume needs --out (the partial result to continue)");
  const std::string out = guarded_out(r, inputs_of(r, {"model", "task", "dev", "mask"})).string();
  EvalJob job = with_flag_names(kEvalFlags, [&] { return job_from_flags(r); });
  auto model = load_model(r["model"].as<std::string>(), load_options(r));
  auto tok = load_tokenizer(model->info());
  with_flag_names(kEvalFlags, [&] { plan_points(r, *model, *tok, job); });
  // From here on SIGINT/SIGTERM stop the run cleanly between batches (docs/errors.md); the
  // other commands keep the default action.
  install_interrupt_handlers();
  log::info(str("eval: ", job.points.size(), " configurations x ", job.splits.test.size(), " test items",
                job.splits.has_dev() ? str(" + ", job.splits.dev.size(), " dev items") : std::string(), ", metric ",
                metric_name(job.run.metric)));
  Json before;
  if (r.count("resume") && fs::exists(out)) {
    before = parse_json(read_text_file(out), out);
    if (!is_partial_result(before)) {
      check_complete_is_this_run(before, job, *model, out);
      log::info(str("eval: ", out, " is already a complete result of this command; nothing to do (--resume)"));
      return 0;
    }
  }
  const EvalOutcome res = run_eval(*model, *tok, job, before.is_null() ? nullptr : &before, out, command_line(args));
  if (!res.complete) {
    const int sig = interrupt_signal();
    std::string where = "nothing saved (no --out)";
    if (!out.empty()) {
      write_file_atomic(out, dump_json(res.partial, 2) + "\n");
      where = str("partial result in ", out, " (\"partial\": true); run the same command with --resume to finish");
    }
    throw Interrupted(sig, str("eval interrupted by ", signal_name(sig), " after ", res.progress, "; ", where));
  }
  print_table(std::cout, res.result);
  if (!out.empty()) write_file_atomic(out, dump_json(encode_result(res.result), 2) + "\n");
  return 0;
}

}  // namespace sadi::app
