// sadi generate's flags: their declaration and their mapping to a GenerateJob and a
// SteeringRequest (cmd_generate.cpp runs them).
#include "flags.hpp"
#include "options.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi::app {

void add_generate_options(cxxopts::Options& opts) {
  opts.add_options()
      ("model", "model directory", cxxopts::value<std::string>())
      ("prompt", "one prompt; its tokens stream to stdout", cxxopts::value<std::string>())
      ("input", "prompts file: JSON Lines with prompt (optional id)", cxxopts::value<std::string>())
      ("out", "output JSON Lines file (--input: default stdout; --prompt: the text still streams to stdout); "
       "written atomically", cxxopts::value<std::string>())
      ("max-new-tokens", "tokens to generate at most", cxxopts::value<int64_t>()->default_value("64"))
      ("temperature", "0 = greedy", cxxopts::value<double>()->default_value("0"))
      ("top-p", "nucleus sampling threshold", cxxopts::value<double>()->default_value("1"))
      ("top-k-sampling", "sample from the K most likely tokens (0: all)", cxxopts::value<int64_t>()->default_value("0"))
      ("seed", "sampling seed (each prompt gets its own stream, so batching never changes it)",
       cxxopts::value<uint64_t>()->default_value("0"))
      ("stop", "stop when this string appears (repeatable); the output ends before it",
       cxxopts::value<std::vector<std::string>>())
      ("ignore-eos", "do not stop at the end-of-sequence token")
      ("batch-size", "prompts per batch", cxxopts::value<int64_t>()->default_value("8"))
      ("decode-step", "dynamic: one forward per step over the filled cache; static: the fixed-shape step "
       "CUDA graphs capture (device buffers updated in place, the whole cache attended to; docs/gpu.md)",
       cxxopts::value<std::string>()->default_value("dynamic"))
      ("cuda-graphs", "auto: on CUDA, in a build with CUDA graphs, capture the static decode step once per batch "
       "and replay it; off: never (docs/gpu.md)", cxxopts::value<std::string>()->default_value("auto"))
      ("timing-json", "also write the timing summary (load, prefill, decode: tokens, ms, tokens/s) as JSON here",
       cxxopts::value<std::string>());
  opts.add_options("steering")
      ("mask", "mask file from sadi identify", cxxopts::value<std::string>())
      ("site", "head, neuron, hidden or residual", cxxopts::value<std::string>()->default_value("head"))
      ("top-k", "steer the K top-ranked elements of the site", cxxopts::value<int64_t>()->default_value("0"))
      ("delta", "strength: A' = A + delta * (A * M)", cxxopts::value<std::string>()->default_value("0"))
      ("method", "sadi; the controls fixed, fixed-dir (need --calibration), fixed-raw, random; the baselines caa "
       "(delta: multiplier), iti (delta: alpha); none (docs/baselines.md)",
       cxxopts::value<std::string>()->default_value("sadi"))
      ("layers", "caa: comma-separated layers to add at (default: the middle layer)",
       cxxopts::value<std::string>()->default_value(""))
      ("calibration", "fixed, fixed-dir: JSON Lines with prompt (e.g. the dev split) for SADI's mean edit",
       cxxopts::value<std::string>())
      ("mode", "live (one pass) or clamp (clean pass, then overwrite the site; the reference code)",
       cxxopts::value<std::string>()->default_value("live"))
      ("steer-positions", "prompt-last, from-prompt-last (also every generated token), prompt-all, or all "
       "(default: from-prompt-last for caa and iti, else prompt-last)",
       cxxopts::value<std::string>()->default_value(""))
      ("random-seed", "seed of the random method's element choice", cxxopts::value<uint64_t>()->default_value("0"));
}

GenerateJob generate_job_from_flags(const cxxopts::ParseResult& r) {
  if (!r.count("model")) throw_usage("sadi generate: missing --model (see sadi generate --help)");
  if (r.count("prompt") == r.count("input")) throw_usage("sadi generate: give exactly one of --prompt and --input");
  GenerateJob job;
  GenerateOptions& g = job.options;
  g.max_new_tokens = bounded(r, "max-new-tokens", 1, 1 << 20);
  g.temperature = r["temperature"].as<double>();
  g.top_p = r["top-p"].as<double>();
  g.top_k = bounded(r, "top-k-sampling", 0, int64_t{1} << 40);
  g.seed = r["seed"].as<uint64_t>();
  if (r.count("stop")) g.stop = r["stop"].as<std::vector<std::string>>();
  g.ignore_eos = r.count("ignore-eos") > 0;
  g.stop_on_interrupt = true;
  const auto step = r["decode-step"].as<std::string>();
  if (step != "dynamic" && step != "static") throw_usage(str("--decode-step: expected dynamic or static, found '", step, "'"));
  g.static_decode = step == "static";
  const auto graphs = r["cuda-graphs"].as<std::string>();
  if (graphs != "auto" && graphs != "off") throw_usage(str("--cuda-graphs: expected auto or off, found '", graphs, "'"));
  g.cuda_graphs = graphs == "auto";
  if (!(g.temperature >= 0) || !std::isfinite(g.temperature)) throw_usage("--temperature: expected a number >= 0");
  if (!(g.top_p > 0 && g.top_p <= 1)) throw_usage("--top-p: expected a number in (0, 1]");
  job.batch_size = bounded(r, "batch-size", 1, 1 << 20);
  if (r.count("prompt")) {
    job.prompts.push_back({"prompt", r["prompt"].as<std::string>(), 0});
  } else {
    job.prompts = read_prompts(r["input"].as<std::string>());
  }
  return job;
}

SteeringRequest steering_from_flags(const cxxopts::ParseResult& r) {
  SteeringRequest req;
  if (!r.count("mask")) {
    if (r.count("delta") || r.count("top-k")) throw_usage("--delta and --top-k need --mask");
    return req;
  }
  req.mask = r["mask"].as<std::string>();
  InterventionSpec& spec = req.spec;
  spec.method = parse_method(r["method"].as<std::string>());
  spec.mode = parse_mode(r["mode"].as<std::string>());
  spec.site = parse_site(r["site"].as<std::string>(), "--site");
  spec.top_k = r["top-k"].as<int64_t>();
  spec.delta = parse_number("--delta", r["delta"].as<std::string>());
  spec.caa_layers = parse_list<int64_t>("--layers", r["layers"].as<std::string>());
  const std::string pos = r["steer-positions"].as<std::string>();
  if (!pos.empty()) spec.positions = spec.shift_positions = parse_positions(pos);
  spec.seed = r["random-seed"].as<uint64_t>();
  if (r.count("calibration")) req.calibration = r["calibration"].as<std::string>();
  return req;
}

}  // namespace sadi::app
