// sadi generate: text generation with optional SADI (or baseline) steering. Flags become a
// GenerateJob (lib/generate/job.hpp); the generations become JSON Lines (or streamed text).
#include <chrono>
#include <iostream>

#include "commands.hpp"
#include "flags.hpp"
#include "model_options.hpp"
#include "options.hpp"
#include "output.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/progress.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/generate/job.hpp"

namespace sadi::app {
namespace {

const FlagNames kGenerateFlags{{"method", "--method"},       {"mode", "--mode"},
                               {"positions", "--steer-positions"}, {"top_k", "--top-k"},
                               {"delta", "--delta"},         {"caa.layers", "--layers"},
                               {"calibration", "--calibration"}, {"mask", "--mask"},
                               {"batch_size", "--batch-size"}, {"max_new_tokens", "--max-new-tokens"}};

void report(const GenerateSummary& s, size_t prompts, const Json& timing, const fs::path& timing_path) {
  log::info(summary_line(s, prompts));
  log::info(timing_line(timing));
  if (!timing_path.empty()) write_file_atomic(timing_path, dump_json(timing, 2) + "\n");
}

}  // namespace

int cmd_generate(const Args& args) {
  cxxopts::Options opts(args[0], "Generate text, optionally steered with a mask from sadi identify.");
  add_generate_options(opts);
  add_model_options(opts, "false");
  add_common_options(opts);
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  GenerateJob job = with_flag_names(kGenerateFlags, [&] { return generate_job_from_flags(r); });
  const SteeringRequest request = with_flag_names(kGenerateFlags, [&] { return steering_from_flags(r); });
  const auto inputs = inputs_of(r, {"model", "input", "mask", "calibration"});
  const fs::path out_path = guarded_out(r, inputs);
  fs::path timing_path;
  if (r.count("timing-json")) {
    auto others = inputs;
    if (!out_path.empty()) others.push_back({"--out", out_path});
    timing_path = guard_output("--timing-json", r["timing-json"].as<std::string>(), others);
  }
  const auto t_load = std::chrono::steady_clock::now();
  auto model = load_model_from_flags(r["model"].as<std::string>(), r);
  auto tok = load_tokenizer(model->info());
  const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_load).count();
  const PlannedSteering steering = with_flag_names(kGenerateFlags, [&] { return plan_steering(*model, *tok, request); });
  if (!steering.description.is_null()) log::info(str("steering: ", dump_json(steering.description, -1)));
  job.steering = steering.intervention;

  install_interrupt_handlers();  // Ctrl-C: stop after the current token, remove the temporary output
  TextOutput out(out_path);
  const bool one = r.count("prompt") > 0;  // streams to stdout; with --out also the JSON line there
  auto emit = [&](const Prompt& p, const Generation& gen) {
    if (one) {
      std::cout << "\n";
      log::info(str("stop reason: ", gen.stop_reason));
      if (!out.to_file()) return;
    }
    out.stream() << dump_json(generation_json(p, gen, steering.description)) << "\n" << std::flush;
  };
  ProgressLine line("generate", "prompts");
  line.log_every(0);  // each batch (the logs of batch jobs, --log-level debug)
  auto stream = [](size_t, const std::string& text) { std::cout << text << std::flush; };
  const GenerateSummary s = with_flag_names(kGenerateFlags, [&] {
    return run_generate(*model, *tok, job, emit, one ? StreamFn(stream) : StreamFn(),
                        one ? GenerateProgressFn() : [&](int64_t d, int64_t t) { line.update(d, t); });
  });
  line.finish();
  report(s, job.prompts.size(), timing_json(s, load_ms, *model, job.batch_size), timing_path);
  out.commit();
  return 0;
}

}  // namespace sadi::app
