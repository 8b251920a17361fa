// sadi generate: text generation with optional SADI (or baseline) steering.
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "commands.hpp"
#include "options.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/progress.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/data/jsonl.hpp"
#include "sadi/model/tensor_types.hpp"
#include "sadi/model/threads.hpp"
#include "sadi/generate/generate.hpp"
#include "sadi/io/mask_file.hpp"
#include "sadi/model/mask_check.hpp"
#include "sadi/steer/calibration.hpp"
#include "sadi/steer/planner.hpp"

namespace sadi::app {
namespace {

const FlagNames kSteerFlags{{"method", "--method"}, {"mode", "--mode"},   {"positions", "--steer-positions"},
                            {"top_k", "--top-k"},   {"delta", "--delta"}, {"caa.layers", "--layers"},
                            {"calibration", "--calibration"}, {"mask", "--mask"}};

std::vector<Prompt> read_prompts(const fs::path& path) {
  std::vector<Prompt> out;
  for_each_jsonl(path, [&](const JsonView& v, int64_t line) {
    Prompt p;
    p.text = required_text(v, "prompt");
    p.id = record_id(v, line);
    p.index = static_cast<int64_t>(out.size());
    out.push_back(std::move(p));
  });
  return out;
}

// The timing summary (also --timing-json): load, prefill and decode, each in tokens, ms, tokens/s.
Json timing_json(const GenerateTiming& t, double load_ms, double total_ms, int64_t generated, const Model& model,
                 int64_t batch_size) {
  auto part = [](int64_t tokens, double ms) {
    return Json{{"tokens", tokens}, {"ms", ms}, {"tokens_per_s", ms > 0 ? 1000.0 * static_cast<double>(tokens) / ms : 0.0}};
  };
  return Json{{"load_ms", load_ms},
              {"prefill", part(t.prompt_tokens, t.prefill_ms)},
              {"decode", part(t.decoded_tokens, t.decode_ms)},
              {"generated_tokens", generated},
              {"generate_ms", total_ms},
              {"batch_size", batch_size},
              {"device", model.device().str()},
              {"dtype", dtype_name(model.dtype())},
              {"threads", configured_threads()}};
}

std::string timing_line(const Json& j) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << "timing: load " << j["load_ms"].get<double>() << " ms; prefill "
     << j["prefill"]["tokens"].get<int64_t>() << " tokens in " << j["prefill"]["ms"].get<double>() << " ms ("
     << j["prefill"]["tokens_per_s"].get<double>() << " tokens/s); decode " << j["decode"]["tokens"].get<int64_t>()
     << " tokens in " << j["decode"]["ms"].get<double>() << " ms (" << j["decode"]["tokens_per_s"].get<double>()
     << " tokens/s)";
  return os.str();
}

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
       cxxopts::value<std::string>())
      ("device", "auto (CUDA when present, else cpu), cpu, cuda or cuda:N",
       cxxopts::value<std::string>()->default_value("auto"))
      ("dtype", "float32, float16 or bfloat16 (default: the model's)", cxxopts::value<std::string>()->default_value(""));
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

// The steering of every prompt (method none without --mask) and its description for the output.
Intervention plan_steering(const cxxopts::ParseResult& r, Model& model, const Tokenizer& tok, Json& steering) {
  Intervention iv;
  if (r.count("mask")) {
    const fs::path mask_path = r["mask"].as<std::string>();
    MaskFile mask = read_mask_file(mask_path);
    check_mask_matches_model(mask, mask_path, model.info());
    Calibration calibration;
    iv = with_flag_names(kSteerFlags, [&] {
      InterventionSpec spec;
      spec.method = parse_method(r["method"].as<std::string>());
      spec.mode = parse_mode(r["mode"].as<std::string>());
      spec.site = parse_site(r["site"].as<std::string>(), "--site");
      spec.top_k = r["top-k"].as<int64_t>();
      spec.delta = parse_number("--delta", r["delta"].as<std::string>());
      spec.caa_layers = parse_list<int64_t>("--layers", r["layers"].as<std::string>());
      const std::string pos = r["steer-positions"].as<std::string>();
      if (!pos.empty()) spec.positions = spec.shift_positions = parse_positions(pos);
      spec.seed = r["random-seed"].as<uint64_t>();
      MaskSource source{&mask, mask_path.string()};
      if (const SiteScores* s = mask.find(spec.site); s && spec.method == Method::kSadi) {
        for (const auto& w : stability_warnings(*s, {spec.top_k})) log::warn(str("generate: ", w));
      }
      if (r.count("calibration") && needs_calibration({spec.method})) {
        std::vector<std::string> texts;
        for (const auto& p : read_prompts(r["calibration"].as<std::string>())) texts.push_back(p.text);
        calibration = calibrate(model, tok, texts, spec.site, 8, r["calibration"].as<std::string>());
        source.calibration = &calibration;
      }
      return plan_intervention(spec, source, {&model.info(), model.device(), model.dtype()});
    });
    steering = {{"mask", mask_path.string()}, {"method", method_name(iv.label.method)}, {"mode", mode_name(iv.mode)},
                {"site", site_name(iv.site)}, {"top_k", r["top-k"].as<int64_t>()}, {"delta", iv.label.delta},
                {"steer_positions", positions_name(iv.positions)}, {"layers", iv.layers}};
    if (r.count("calibration")) steering["calibration"] = r["calibration"].as<std::string>();
    log::info(str("steering: ", steering.dump()));
  } else if (r.count("delta") || r.count("top-k")) {
    throw_usage("--delta and --top-k need --mask");
  }
  return iv;
}

}  // namespace

int cmd_generate(const Args& args) {
  cxxopts::Options opts(args[0], "Generate text, optionally steered with a mask from sadi identify.");
  add_generate_options(opts);
  add_common_options(opts);
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  if (!r.count("model")) throw_usage("sadi generate: missing --model (see sadi generate --help)");
  if (r.count("prompt") == r.count("input")) throw_usage("sadi generate: give exactly one of --prompt and --input");
  GenerateOptions g;
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
  const int64_t batch_size = bounded(r, "batch-size", 1, 1 << 20);

  std::vector<Prompt> prompts;
  if (r.count("prompt")) {
    prompts.push_back({"prompt", r["prompt"].as<std::string>(), 0});
  } else {
    prompts = read_prompts(r["input"].as<std::string>());
  }
  std::unique_ptr<AtomicOutput> out_file;
  const auto inputs = inputs_of(r, {"model", "input", "mask", "calibration"});
  const fs::path out_path = guarded_out(r, inputs);
  if (!out_path.empty()) out_file = std::make_unique<AtomicOutput>(out_path);
  fs::path timing_path;
  if (r.count("timing-json")) {
    auto others = inputs;
    if (!out_path.empty()) others.push_back({"--out", out_path});
    timing_path = guard_output("--timing-json", r["timing-json"].as<std::string>(), others);
  }
  using Clock = std::chrono::steady_clock;
  const auto t_load = Clock::now();
  auto model = load_model(r["model"].as<std::string>(), {r["device"].as<std::string>(), r["dtype"].as<std::string>()});
  auto tok = load_tokenizer(model->info());
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_load).count();

  Json steering = nullptr;
  const Intervention iv = plan_steering(r, *model, *tok, steering);  // method none without --mask

  install_interrupt_handlers();  // Ctrl-C: stop after the current token, remove the temporary output
  const auto t0 = Clock::now();
  int64_t generated = 0;
  GenerateTiming timing;
  auto report = [&] {
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::ostringstream os;
    os << std::fixed << std::setprecision(2) << "generate: " << generated << " tokens for " << prompts.size()
       << " prompts in " << secs << " s, " << static_cast<double>(generated) / secs << " tokens/s";
    log::info(os.str());
    const Json summary = timing_json(timing, load_ms, secs * 1000.0, generated, *model, batch_size);
    log::info(timing_line(summary));
    if (!timing_path.empty()) write_file_atomic(timing_path, dump_json(summary, 2) + "\n");
  };
  auto json_line = [&](const Prompt& p, const Generation& gen) {
    return Json{{"id", p.id}, {"prompt", p.text}, {"output", gen.output}, {"prompt_tokens", gen.prompt_tokens},
                {"output_tokens", gen.tokens.size()}, {"output_ids", gen.tokens}, {"stop_reason", gen.stop_reason},
                {"steering", steering}};
  };
  if (r.count("prompt")) {  // streams to stdout; with --out also the JSON line there
    auto stream = [](size_t, const std::string& text) { std::cout << text << std::flush; };
    auto res = generate_batch(*model, *tok, prompts, g, {&iv}, stream, &timing);
    std::cout << "\n";
    generated = static_cast<int64_t>(res[0].tokens.size());
    report();
    log::info(str("stop reason: ", res[0].stop_reason));
    if (out_file) write_file_atomic(out_file->target(), dump_json(json_line(prompts[0], res[0])) + "\n");
    return 0;
  }
  std::ofstream file;
  if (out_file) {
    file.open(out_file->temp_path(), std::ios::binary);
    if (!file) throw_io(str(out_file->target().string(), ": cannot write"));
  }
  std::ostream& os = out_file ? static_cast<std::ostream&>(file) : std::cout;
  ProgressLine line("generate", "prompts");
  for (size_t start = 0; start < prompts.size(); start += static_cast<size_t>(batch_size)) {
    std::vector<Prompt> chunk(prompts.begin() + static_cast<long>(start),
                              prompts.begin() + static_cast<long>(std::min(prompts.size(), start + static_cast<size_t>(batch_size))));
    auto res = generate_batch(*model, *tok, chunk, g, std::vector<const Intervention*>(chunk.size(), &iv), {}, &timing);
    for (size_t i = 0; i < chunk.size(); ++i) {
      os << dump_json(json_line(chunk[i], res[i])) << "\n";
      generated += static_cast<int64_t>(res[i].tokens.size());
    }
    os.flush();
    const auto done = std::min(prompts.size(), start + static_cast<size_t>(batch_size));
    line.update(static_cast<int64_t>(done), static_cast<int64_t>(prompts.size()));
    log::debug(str("generate: ", done, "/", prompts.size(), " prompts"));
  }
  line.finish();
  report();
  if (out_file) {
    file.close();
    if (!file) throw_io(str(out_file->target().string(), ": write failed"));
    out_file->commit();
  }
  return 0;
}

}  // namespace sadi::app
