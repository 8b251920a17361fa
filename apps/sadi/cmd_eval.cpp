// sadi eval: score a task without and with steering over a K x delta grid and baselines, all
// configurations sharing batches; select on dev, report on test (docs/eval.md). Flags become an
// EvalJob (lib/eval/job.hpp); the outcome becomes the results file and the table.
#include <iostream>

#include "commands.hpp"
#include "flags.hpp"
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
                           {"mask", "--mask"},
                           {"metric", "--metric"},
                           {"em_rule", "--em-rule"},
                           {"batch_size", "--batch-size"}};

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
  const std::string out = guarded_out(r, inputs_of(r, {"model", "task", "dev", "mask"})).string();
  EvalJob job = with_flag_names(kEvalFlags, [&] { return eval_job_from_flags(r); });
  auto model = load_model_from_flags(r["model"].as<std::string>(), r);
  auto tok = load_tokenizer(model->info());
  with_flag_names(kEvalFlags, [&] { plan_eval(*model, *tok, job); });
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
