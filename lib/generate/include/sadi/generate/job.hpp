#pragma once
// Generation as a library job: prompts, decoding options, batch size and one steering for every
// prompt -> run_generate -> each prompt's generation, in input order. apps/sadi/cmd_generate.cpp
// only turns flags into a GenerateJob and the generations into JSON Lines.
// Errors name the job's fields ("top_k", "calibration", ...); the command maps them to flags.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sadi/core/json.hpp"
#include "sadi/generate/generate.hpp"
#include "sadi/steer/planner.hpp"

namespace sadi {

// Prompts from JSON Lines with "prompt" and an optional "id"; throws naming the file and line.
std::vector<Prompt> read_prompts(const std::filesystem::path& path);

// What the user asked to steer with: a mask (empty: no steering), the intervention, and for the
// fixed controls the prompts whose SADI edit they average.
struct SteeringRequest {
  std::filesystem::path mask;
  InterventionSpec spec;
  std::filesystem::path calibration;
};

struct PlannedSteering {
  Intervention intervention;  // method none without a mask
  Json description = nullptr; // as the output records it (null: unsteered)
};

// Reads and checks the mask against the model, calibrates where the method needs it, and plans
// the intervention. Throws sadi::Error naming the field ("spec.top_k" as "top_k", ...).
PlannedSteering plan_steering(Model& model, const Tokenizer& tok, const SteeringRequest& request);

struct GenerateJob {
  std::vector<Prompt> prompts;
  GenerateOptions options;
  int64_t batch_size = 8;
  Intervention steering;  // every prompt's (method none: unsteered)
};

struct GenerateSummary {
  int64_t generated = 0;  // tokens generated, all prompts
  double seconds = 0;     // wall time of the generation (loading excluded)
  GenerateTiming timing;  // prefill and decode
};

// Receives each prompt's generation in input order, as soon as it and every earlier one is done.
using EmitFn = std::function<void(const Prompt&, const Generation&)>;
// Called after each batch: (prompts done, prompts total).
using GenerateProgressFn = std::function<void(int64_t, int64_t)>;

// Batches of at most batch_size prompts in input order; a batch-invariant model gets batches of
// prompts of one token length (no padding), so a prompt's tokens do not depend on the batch size.
// `stream` (one prompt only) receives its text as it is produced.
GenerateSummary run_generate(Model& model, const Tokenizer& tok, const GenerateJob& job, const EmitFn& emit,
                             const StreamFn& stream = {}, const GenerateProgressFn& progress = {});

// One output record (a line of sadi generate's JSON Lines): id, prompt, output, token counts and
// ids, stop reason, and the steering's description.
Json generation_json(const Prompt& p, const Generation& gen, const Json& steering);
// "generate: N tokens for P prompts in S s, R tokens/s".
std::string summary_line(const GenerateSummary& s, size_t prompts);

// The timing summary: load, prefill and decode, each in tokens, ms and tokens/s.
Json timing_json(const GenerateSummary& s, double load_ms, const Model& model, int64_t batch_size);
std::string timing_line(const Json& timing);

}  // namespace sadi
