// The evaluation runner (job.hpp): scores both splits under the planned grid, resumes partial
// results, and assembles the EvalResult.
#include "sadi/eval/job.hpp"

#include <algorithm>

#include "sadi/core/error.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/progress.hpp"
#include "sadi/core/sha256.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/core/version.hpp"
#include "sadi/eval/checkpoint.hpp"
#include "sadi/io/mask_file.hpp"
#include "sadi/model/mask_check.hpp"
#include "sadi/model/tensor_types.hpp"
#include "sadi/steer/calibration.hpp"
#include "row_plan.hpp"

namespace sadi {
namespace {

namespace fs = std::filesystem;

Json dev_identity(const EvalJob& job) {  // resume: the dev file's hash or the fraction
  if (job.source.dev_file) return sha256_file(*job.source.dev_file);
  if (job.splits.has_dev() && job.source.dev_fraction) return *job.source.dev_fraction;
  return Json();
}

Json grid_json(const EvalJob& job) {
  const GridSpec& g = job.grid;
  return {{"top_k", g.top_k},
          {"delta", g.delta},
          {"baselines", job.baselines},
          {"random_seeds", g.random_seeds},
          {"caa_layers", job.caa_layers},
          {"caa_multipliers", g.caa_multipliers},
          {"iti_top_k", g.iti_top_k},
          {"iti_alpha", g.iti_alpha}};
}

Json result_header(const EvalJob& job, const Model& model) {
  const auto& sp = job.splits;
  Json mask = nullptr;
  if (job.mask) {
    mask = {{"file", fs::absolute(job.mask->file).string()}};
    for (const auto& [k, v] : job.mask->provenance.items()) mask[k] = v;
  }
  Json h{{"tool_version", str("sadi ", version())}, {"metric", metric_name(job.run.metric)},
         {"mode", mode_name(job.grid.common.mode)}, {"site", job.site},
         {"model", {{"dir", fs::absolute(model.info().dir).string()}, {"fingerprint", model.info().fingerprint}}},
         {"task", {{"file", fs::absolute(job.source.task).string()}, {"sha256", sha256_file(job.source.task)},
                   {"n_test", sp.test.size()}}},
         {"mask", mask}, {"grid", grid_json(job)}, {"em_rule", match_rule_name(job.run.match_rule)},
         {"seed", job.seed}};
  if (job.calibration_items > 0) h["calibration"] = {{"source", "dev"}, {"n", job.calibration_items}};
  if (job.source.dev_file) {
    h["dev"] = {{"file", fs::absolute(*job.source.dev_file).string()}, {"sha256", sha256_file(*job.source.dev_file)},
                {"n", sp.dev.size()}};
  } else if (sp.has_dev()) {
    h["dev"] = {{"fraction", *job.source.dev_fraction}, {"seed", job.seed}, {"n", sp.dev.size()}};
  }
  if (!job.shard.whole()) {
    h["shard"] = {{"index", job.shard.index}, {"count", job.shard.count}, {"n_test", sp.n_test_all},
                  {"n_dev", sp.n_dev_all}};
  }
  return h;
}

std::string progress_text(const RowCheckpoint& test, const RowCheckpoint& dev) {
  if (!test.complete()) return str(test.rows_done, " of ", test.rows_total, " test rows");
  return str("the test split and ", dev.rows_done, " of ", dev.rows_total, " dev rows");
}

}  // namespace

MaskRecord mask_record(const std::filesystem::path& file, const MaskFile& mask) {
  MaskRecord r{file, Json::object()};
  r.provenance = provenance_json(mask.provenance);
  return r;
}

void plan_eval(Model& model, const Tokenizer& tok, EvalJob& job) {
  GridSpec grid = job.grid;
  grid.common.seed = job.seed;
  MaskFile mask;
  MaskSource source;
  Calibration calibration;
  if (job.mask_file.empty()) {
    if (job.baselines != std::vector<std::string>{"none"}) throw_field(ErrorKind::kUsage, "baselines", " other than none need a mask");
    job.points = plan_grid(grid, source, {&model.info(), model.device(), model.dtype()});
    return;
  }
  mask = read_mask_file(job.mask_file);
  check_mask_matches_model(mask, job.mask_file, model.info());
  source = {&mask, job.mask_file.string()};
  job.mask = mask_record(job.mask_file, mask);
  grid.methods = {Method::kSadi};
  for (const auto& b : job.baselines) {
    if (b != "none") grid.methods.push_back(parse_method(b, "baselines"));
  }
  const bool iti = std::find(grid.methods.begin(), grid.methods.end(), Method::kIti) != grid.methods.end();
  if (iti && grid.iti_top_k.empty()) {  // the results record the K values ITI ran with
    job.grid.iti_top_k = grid.iti_top_k = iti_default_top_k(model.info().n_layers * model.info().n_heads);
  }
  if (const SiteScores* s = mask.find(grid.common.site)) {
    for (const auto& w : stability_warnings(*s, grid.top_k)) log::warn(str("eval: ", w));
  }
  if (needs_calibration(grid.methods) && job.splits.has_dev()) {
    calibration = calibrate(model, tok, job.splits.dev_prompts_all, grid.common.site, job.run.batch_size, "the dev split",
                            job.run.prefix_cache_bytes);
    source.calibration = &calibration;
    job.calibration_items = static_cast<int64_t>(job.splits.dev_prompts_all.size());
  }
  job.points = plan_grid(grid, source, {&model.info(), model.device(), model.dtype()});
}

Json resume_config(const EvalJob& job, const Model& model) {
  const EvalRun& run = job.run;
  return Json{{"tool_version", str("sadi ", version())},
              {"model_fingerprint", model.info().fingerprint},
              {"task_sha256", sha256_file(job.source.task)},
              {"dev", dev_identity(job)},
              {"mask_sha256", job.mask ? Json(sha256_file(job.mask->file)) : Json()},
              {"metric", metric_name(run.metric)}, {"mode", mode_name(job.grid.common.mode)}, {"site", job.site},
              {"grid", grid_json(job)}, {"em_rule", match_rule_name(run.match_rule)},
              {"seed", job.seed}, {"separator", run.separator},
              {"max_new_tokens", run.max_new_tokens}, {"stop", run.stop},
              {"shard", job.shard.name()}, {"batch_size", run.batch_size},
              {"dtype", dtype_name(model.dtype())}, {"device", model.device().str()},
              {"batch_invariant", model.batch_invariant()}, {"prefix_sharing", run.prefix_sharing},
              {"layer_sharing", shares_layers(model, run)},
              {"prefix_cache_bytes", run.prefix_cache_bytes}};
}

void check_complete_is_this_run(const Json& complete, const EvalJob& job, const Model& model, const std::string& origin) {
  const Json mine = result_header(job, model);
  std::vector<const char*> keys(std::begin(kRunIdentityKeys), std::end(kRunIdentityKeys));
  keys.push_back("shard");  // shards of one run are different results
  for (const char* key : keys) {
    const Json a = run_identity(complete, key), b = run_identity(mine, key);
    if (a != b) {
      throw_input(str(origin, ": key '", key, "': this complete result was made by another run (", a.dump(), "; this command: ",
                      b.dump(), "); resuming continues only a partial result of the same command: remove the file or ",
                      "write elsewhere"));
    }
  }
}

EvalOutcome run_eval(Model& model, const Tokenizer& tok, const EvalJob& job, const Json* resume_from,
                     const std::string& origin, const std::string& command_line) {
  const Json config = resume_config(job, model);
  const bool has_dev = job.splits.has_dev();
  RowCheckpoint ck_test, ck_dev;
  if (resume_from) {
    resume_from_partial(*resume_from, config, job.run.metric, origin, ck_test, ck_dev);
    log::info(str("eval: resuming ", origin, ": ", ck_test.rows_done + ck_dev.rows_done, " rows already done"));
  }
  // A terminal shows a progress line per split; --log-level debug logs it every 10 s.
  auto progress_of = [](ProgressLine& line) {
    return [&line](int64_t done, int64_t total) { line.update(done, total); };
  };
  std::vector<PointScore> dev_scores;
  std::vector<PointScore> test_scores;
  {
    ProgressLine line("eval test", "rows");
    test_scores = evaluate(model, tok, job.splits.test, job.points, job.run, progress_of(line), &ck_test);
  }
  if (has_dev && ck_test.complete()) {
    ProgressLine line("eval dev", "rows");
    dev_scores = evaluate(model, tok, job.splits.dev, job.points, job.run, progress_of(line), &ck_dev);
  }
  EvalOutcome out;
  if (!ck_test.complete() || (has_dev && !ck_dev.complete())) {
    out.partial = partial_result(config, ck_test, has_dev ? &ck_dev : nullptr, job.run.metric, command_line);
    out.progress = progress_text(ck_test, ck_dev);
    return out;
  }
  if (!job.timing) {
    for (auto* v : {&test_scores, &dev_scores}) {
      for (auto& s : *v) s.seconds = -1;
    }
  }
  out.complete = true;
  EvalResult& r = out.result;
  r.header = result_header(job, model);
  r.metric = job.run.metric;
  r.seed = job.seed;
  r.has_dev = has_dev;
  r.whole = job.shard.whole();
  for (size_t p = 0; p < job.points.size(); ++p) {
    r.points.push_back({job.points[p].label, has_dev ? dev_scores[p] : PointScore{}, test_scores[p]});
  }
  r.command_line = command_line;
  return out;
}

}  // namespace sadi
