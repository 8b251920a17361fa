// The generation job (job.hpp): steering planned once, prompts batched, generations in order.
#include "sadi/generate/job.hpp"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <map>
#include <sstream>

#include "sadi/core/error.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/data/jsonl.hpp"
#include "sadi/io/mask_file.hpp"
#include "sadi/model/batch.hpp"
#include "sadi/model/mask_check.hpp"
#include "sadi/model/tensor_types.hpp"
#include "sadi/model/threads.hpp"
#include "sadi/steer/calibration.hpp"

namespace sadi {
namespace {

// The batches, each a list of prompt indices: runs of at most batch_size prompts in input order;
// for a batch-invariant model, prompts of one token length per batch (group_rows).
std::vector<std::vector<size_t>> plan_batches(const Model& model, const Tokenizer& tok, const GenerateJob& job) {
  std::vector<int64_t> lengths(job.prompts.size(), 0);
  if (model.batch_invariant()) {
    for (size_t i = 0; i < lengths.size(); ++i) {
      lengths[i] = static_cast<int64_t>(tok.encode(job.prompts[i].text, model.info().tokenizer.add_bos).size());
    }
  }
  return group_rows(lengths, model.batch_invariant(), static_cast<size_t>(job.batch_size));
}

}  // namespace

std::vector<Prompt> read_prompts(const std::filesystem::path& path) {
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

PlannedSteering plan_steering(Model& model, const Tokenizer& tok, const SteeringRequest& request) {
  PlannedSteering out;
  if (request.mask.empty()) return out;
  const InterventionSpec& spec = request.spec;
  const MaskFile mask = read_mask_file(request.mask);
  check_mask_matches_model(mask, request.mask, model.info());
  MaskSource source{&mask, request.mask.string()};
  if (const SiteScores* s = mask.find(spec.site); s && spec.method == Method::kSadi) {
    for (const auto& w : stability_warnings(*s, {spec.top_k})) log::warn(str("generate: ", w));
  }
  Calibration calibration;
  if (!request.calibration.empty() && needs_calibration({spec.method})) {
    std::vector<std::string> texts;
    for (const auto& p : read_prompts(request.calibration)) texts.push_back(p.text);
    calibration = calibrate(model, tok, texts, spec.site, 8, request.calibration.string());
    source.calibration = &calibration;
  }
  const Intervention& iv = out.intervention = plan_intervention(spec, source, {&model.info(), model.device(), model.dtype()});
  out.description = {{"mask", request.mask.string()}, {"method", method_name(iv.label.method)},
                     {"mode", mode_name(iv.mode)}, {"site", site_name(iv.site)}, {"top_k", spec.top_k},
                     {"delta", iv.label.delta}, {"steer_positions", positions_name(iv.positions)},
                     {"layers", iv.layers}};
  if (!request.calibration.empty()) out.description["calibration"] = request.calibration.string();
  return out;
}

GenerateSummary run_generate(Model& model, const Tokenizer& tok, const GenerateJob& job, const EmitFn& emit,
                             const StreamFn& stream, const GenerateProgressFn& progress) {
  if (job.batch_size <= 0) throw_field(ErrorKind::kUsage, "batch_size", str(": expected a positive integer, found ", job.batch_size));
  if (stream && job.prompts.size() != 1) throw_runtime("run_generate: streaming needs exactly one prompt");
  const auto t0 = std::chrono::steady_clock::now();
  GenerateSummary summary;
  std::map<size_t, Generation> waiting;  // done, not yet emitted (an earlier prompt is not done)
  size_t next = 0, done = 0;
  for (const auto& batch : plan_batches(model, tok, job)) {
    std::vector<Prompt> chunk;
    for (size_t i : batch) chunk.push_back(job.prompts[i]);
    auto res = generate_batch(model, tok, chunk, job.options, std::vector<const Intervention*>(chunk.size(), &job.steering),
                              stream, &summary.timing);
    for (size_t k = 0; k < batch.size(); ++k) {
      summary.generated += static_cast<int64_t>(res[k].tokens.size());
      waiting.emplace(batch[k], std::move(res[k]));
    }
    for (auto it = waiting.find(next); it != waiting.end(); it = waiting.find(++next)) {
      emit(job.prompts[next], it->second);
      waiting.erase(it);
    }
    done += batch.size();
    if (progress) progress(static_cast<int64_t>(done), static_cast<int64_t>(job.prompts.size()));
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

Json generation_json(const Prompt& p, const Generation& gen, const Json& steering) {
  return Json{{"id", p.id}, {"prompt", p.text}, {"output", gen.output}, {"prompt_tokens", gen.prompt_tokens},
              {"output_tokens", gen.tokens.size()}, {"output_ids", gen.tokens}, {"stop_reason", gen.stop_reason},
              {"steering", steering}};
}

std::string summary_line(const GenerateSummary& s, size_t prompts) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2) << "generate: " << s.generated << " tokens for " << prompts << " prompts in "
     << s.seconds << " s, " << static_cast<double>(s.generated) / s.seconds << " tokens/s";
  return os.str();
}

Json timing_json(const GenerateSummary& s, double load_ms, const Model& model, int64_t batch_size) {
  auto part = [](int64_t tokens, double ms) {
    return Json{{"tokens", tokens}, {"ms", ms}, {"tokens_per_s", ms > 0 ? 1000.0 * static_cast<double>(tokens) / ms : 0.0}};
  };
  const GenerateTiming& t = s.timing;
  return Json{{"load_ms", load_ms},
              {"prefill", part(t.prompt_tokens, t.prefill_ms)},
              {"decode", part(t.decoded_tokens, t.decode_ms)},
              {"generated_tokens", s.generated},
              {"generate_ms", s.seconds * 1000.0},
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

}  // namespace sadi
