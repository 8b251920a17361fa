// sadi eval: score a task without and with steering over a K x delta grid and baselines, all
// configurations sharing batches; select on dev, report on test (docs/eval.md).
#include <ctime>
#include <iomanip>
#include <iostream>

#include "commands.hpp"
#include "model_options.hpp"
#include "options.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/sha256.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/core/version.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/eval/checkpoint.hpp"
#include "sadi/eval/eval.hpp"
#include "sadi/eval/report.hpp"
#include "sadi/io/mask_check.hpp"
#include "sadi/model/tensor_types.hpp"

namespace sadi::app {
namespace {

struct Shard {
  int64_t index = 1, count = 1;
};

Shard parse_shard(const std::string& s) {
  const auto parts = split(s, '/');
  Shard sh;
  try {
    if (parts.size() != 2) throw std::invalid_argument(s);
    size_t a = 0, b = 0;
    sh.index = std::stoll(parts[0], &a);
    sh.count = std::stoll(parts[1], &b);
    if (a != parts[0].size() || b != parts[1].size()) throw std::invalid_argument(s);
  } catch (const std::exception&) {
    throw_usage(str("--shard: expected I/N (e.g. 2/8), found '", s, "'"));
  }
  if (sh.count < 1 || sh.index < 1 || sh.index > sh.count) {
    throw_usage(str("--shard: expected 1 <= I <= N, found '", s, "'"));
  }
  return sh;
}

// Items at positions p with p % N == I - 1 (their index keeps the position in the whole split).
std::vector<TaskItem> take_shard(const std::vector<TaskItem>& items, const Shard& sh) {
  std::vector<TaskItem> out;
  for (const auto& it : items) {
    if (it.index % sh.count == sh.index - 1) out.push_back(it);
  }
  return out;
}

}  // namespace

int cmd_eval(const Args& args) {
  cxxopts::Options opts(args[0], "Score a task with and without steering: K x delta grid, baselines, dev selection.");
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
      ("baselines", "comma-separated: none, fixed, random, caa", cxxopts::value<std::string>()->default_value("none"))
      ("caa-layers", "caa: comma-separated layers (default: all)", cxxopts::value<std::string>()->default_value(""))
      ("mode", "live or clamp", cxxopts::value<std::string>()->default_value("live"))
      ("separator", "text between prompt and answer", cxxopts::value<std::string>()->default_value(" "))
      ("batch-size", "rows (item x configuration [x choice]) per forward pass", cxxopts::value<int64_t>()->default_value("32"))
      ("out", "results JSON (written atomically; an interrupted run leaves a partial result there)",
       cxxopts::value<std::string>())
      ("resume", "continue the partial result in --out left by an interrupted run of the same command")
      ("timing", "record seconds per configuration in the results (then they differ from run to run)");
  add_model_options(opts);
  add_common_options(opts);
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  for (const char* k : {"model", "task"}) {
    if (!r.count(k)) throw_usage(str("sadi eval: missing --", k, " (see sadi eval --help)"));
  }
  if (r.count("dev") && r.count("dev-fraction")) throw_usage("give at most one of --dev and --dev-fraction");
  EvalRun run;
  run.metric = parse_metric(r["metric"].as<std::string>());
  run.mode = parse_mode(r["mode"].as<std::string>());
  run.batch_size = r["batch-size"].as<int64_t>();
  run.separator = r["separator"].as<std::string>();
  run.max_new_tokens = r["max-new-tokens"].as<int64_t>();
  if (r.count("stop")) run.stop = r["stop"].as<std::vector<std::string>>();
  if (run.max_new_tokens <= 0) throw_usage("--max-new-tokens: expected a positive integer");
  const Shard shard = r.count("shard") ? parse_shard(r["shard"].as<std::string>()) : Shard{};
  const uint64_t seed = r["seed"].as<uint64_t>();
  if (r.count("resume") && !r.count("out")) throw_usage("--resume needs --out (the partial result to continue)");
  if (r.count("out")) check_writable(r["out"].as<std::string>());

  const fs::path task_path = r["task"].as<std::string>();
  std::vector<TaskItem> test = read_task(task_path), dev;
  if (r.count("dev")) {
    dev = read_task(r["dev"].as<std::string>());
  } else if (r.count("dev-fraction")) {
    std::vector<TaskItem> all = std::move(test);
    test.clear();
    split_dev(all, r["dev-fraction"].as<double>(), seed, dev, test);
  }
  const bool has_dev = !dev.empty();
  const size_t n_test_all = test.size(), n_dev_all = dev.size();
  if (shard.count > 1) {
    test = take_shard(test, shard);
    dev = take_shard(dev, shard);
    if (test.empty()) {
      throw_input(str("--shard ", shard.index, "/", shard.count, ": the test split has only ", n_test_all,
                      " items, so this shard would be empty (use at most ", n_test_all, " shards)"));
    }
    if (has_dev && dev.empty()) {
      throw_input(str("--shard ", shard.index, "/", shard.count, ": the dev split has only ", n_dev_all,
                      " items, so this shard's dev part would be empty (use at most ", n_dev_all, " shards)"));
    }
  }
  auto model = load_model(r["model"].as<std::string>(), load_options(r));
  auto tok = load_tokenizer(model->info());

  std::vector<std::string> baselines = split(r["baselines"].as<std::string>(), ',');
  for (auto& b : baselines) {
    b = trim(b);
    if (b != "none" && b != "fixed" && b != "random" && b != "caa") {
      throw_usage(str("--baselines: expected none, fixed, random or caa, found '", b, "'"));
    }
  }
  std::vector<RowSteer> steers;  // owned here; points refer to them
  std::vector<EvalPoint> points{{"none", 0, 0.0, nullptr}};
  MaskFile mask;
  Json mask_json = nullptr;
  const auto ks = parse_list<int64_t>("--top-k", r["top-k"].as<std::string>());
  const auto deltas = parse_list<double>("--delta", r["delta"].as<std::string>());
  if (r.count("mask")) {
    const fs::path mask_path = r["mask"].as<std::string>();
    mask = read_mask_file(mask_path);
    check_mask_matches_model(mask, mask_path, model->info());
    mask_json = {{"file", fs::absolute(mask_path).string()}};
    for (const auto& [k, v] : mask.provenance.text) mask_json[k] = v;
    for (const auto& [k, v] : mask.provenance.integer) mask_json[k] = v;
    std::vector<std::string> methods{"sadi"};
    for (const auto& b : baselines) {
      if (b != "none") methods.push_back(b);
    }
    steers.reserve(methods.size() * ks.size() * deltas.size());
    for (const auto& m : methods) {
      for (int64_t k : (m == "caa" ? std::vector<int64_t>{0} : ks)) {
        for (double d : deltas) {
          SteerConfig sc;
          sc.method = parse_method(m);
          sc.mode = run.mode;
          sc.site = parse_site(r["site"].as<std::string>());
          sc.top_k = k;
          sc.delta = d;
          sc.seed = seed;
          if (m == "caa") sc.layers = parse_list<int64_t>("--caa-layers", r["caa-layers"].as<std::string>());
          steers.push_back(resolve_steer(sc, mask, mask_path, model->info()));
          points.push_back({m, k, d, &steers.back()});
        }
      }
    }
  } else if (baselines != std::vector<std::string>{"none"}) {
    throw_usage("--baselines other than none need --mask");
  }
  // From here on SIGINT/SIGTERM stop the run cleanly between batches (docs/errors.md); the
  // other commands keep the default action.
  install_interrupt_handlers();
  log::info(str("eval: ", points.size(), " configurations x ", test.size(), " test items",
                has_dev ? str(" + ", dev.size(), " dev items") : std::string(), ", metric ", metric_name(run.metric)));

  // Everything that decides the rows and their values: a partial result resumes only under the
  // same configuration (paths may differ; files are compared by hash).
  Json config{{"tool_version", str("sadi ", version())},
              {"model_fingerprint", model->info().fingerprint},
              {"task_sha256", sha256_file(task_path)},
              {"dev", r.count("dev") ? Json(sha256_file(r["dev"].as<std::string>()))
                                     : (has_dev ? Json(r["dev-fraction"].as<double>()) : Json())},
              {"mask_sha256", r.count("mask") ? Json(sha256_file(r["mask"].as<std::string>())) : Json()},
              {"metric", metric_name(run.metric)}, {"mode", mode_name(run.mode)}, {"site", r["site"].as<std::string>()},
              {"top_k", ks}, {"delta", deltas}, {"baselines", baselines},
              {"caa_layers", r["caa-layers"].as<std::string>()}, {"seed", seed}, {"separator", run.separator},
              {"max_new_tokens", run.max_new_tokens}, {"stop", run.stop},
              {"shard", str(shard.index, "/", shard.count)}, {"batch_size", run.batch_size},
              {"dtype", dtype_name(model->dtype())}, {"device", model->device().str()},
              {"batch_invariant", model->batch_invariant()}};
  RowCheckpoint ck_test, ck_dev;
  if (r.count("resume") && fs::exists(r["out"].as<std::string>())) {
    const std::string out = r["out"].as<std::string>();
    const Json before = parse_json(read_text_file(out), out);
    if (!is_partial_result(before)) {
      log::info(str("eval: ", out, " is already a complete result; nothing to do (--resume)"));
      return 0;
    }
    resume_from(before, config, run.metric, out, ck_test, ck_dev);
    log::info(str("eval: resuming ", out, ": ", ck_test.rows_done + ck_dev.rows_done, " rows already done"));
  }
  auto progress = [](int64_t done, int64_t total) {
    if (done == total || done % 512 < 32) log::debug(str("eval: ", done, "/", total, " rows"));
  };
  std::vector<PointScore> dev_scores, test_scores = evaluate(*model, *tok, test, points, run, progress, &ck_test);
  if (has_dev && ck_test.complete()) dev_scores = evaluate(*model, *tok, dev, points, run, progress, &ck_dev);
  if (!ck_test.complete() || (has_dev && !ck_dev.complete())) {
    const int sig = interrupt_signal();
    std::string where = "nothing saved (no --out)";
    if (r.count("out")) {
      const std::string out = r["out"].as<std::string>();
      write_file_atomic(out, dump_json(partial_result(config, ck_test, has_dev ? &ck_dev : nullptr, run.metric,
                                                      command_line(args)), 2) + "\n");
      where = str("partial result in ", out, " (\"partial\": true); run the same command with --resume to finish");
    }
    const std::string progress_text =
        !ck_test.complete() ? str(ck_test.rows_done, " of ", ck_test.rows_total, " test rows")
                            : str("the test split and ", ck_dev.rows_done, " of ", ck_dev.rows_total, " dev rows");
    throw Interrupted(sig, str("eval interrupted by ", signal_name(sig), " after ", progress_text, "; ", where));
  }
  if (!r.count("timing")) {
    for (auto* v : {&test_scores, &dev_scores}) {
      for (auto& s : *v) s.seconds = -1;
    }
  }
  std::vector<ScoredPoint> scored;
  for (size_t p = 0; p < points.size(); ++p) {
    scored.push_back({points[p], has_dev ? dev_scores[p] : PointScore{}, test_scores[p]});
  }

  Json results{{"tool_version", str("sadi ", version())}, {"metric", metric_name(run.metric)},
               {"mode", mode_name(run.mode)}, {"site", r["site"].as<std::string>()},
               {"model", {{"dir", fs::absolute(model->info().dir).string()}, {"fingerprint", model->info().fingerprint}}},
               {"task", {{"file", fs::absolute(task_path).string()}, {"sha256", sha256_file(task_path)}, {"n_test", test.size()}}},
               {"mask", mask_json}, {"grid", {{"top_k", ks}, {"delta", deltas}}}, {"seed", seed}};
  if (r.count("dev")) {
    results["dev"] = {{"file", fs::absolute(r["dev"].as<std::string>()).string()},
                      {"sha256", sha256_file(r["dev"].as<std::string>())}, {"n", dev.size()}};
  } else if (has_dev) {
    results["dev"] = {{"fraction", r["dev-fraction"].as<double>()}, {"seed", seed}, {"n", dev.size()}};
  }
  const bool whole = shard.count <= 1;
  if (!whole) {
    results["shard"] = {{"index", shard.index}, {"count", shard.count}, {"n_test", n_test_all}, {"n_dev", n_dev_all}};
  }
  add_scores(results, scored, has_dev, seed, run.metric, whole);
  print_table(std::cout, scored, has_dev, seed, whole);
  results["command_line"] = command_line(args);
  if (r.count("out")) write_file_atomic(r["out"].as<std::string>(), dump_json(results, 2) + "\n");
  return 0;
}

}  // namespace sadi::app
