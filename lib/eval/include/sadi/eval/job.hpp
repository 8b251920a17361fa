#pragma once
// An evaluation as a library job: the items (dev/test split, shard), the planned grid, how
// rows are scored, and the resume state -> a runner -> an EvalResult or a partial result.
// apps/sadi/cmd_eval.cpp only turns flags into an EvalJob and the outcome into files.
// Errors name the job's fields ("shard", "dev_fraction", ...); the command maps them to flags.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sadi/core/json.hpp"
#include "sadi/core/mask_scores.hpp"
#include "sadi/core/shard.hpp"
#include "sadi/eval/eval.hpp"
#include "sadi/eval/results.hpp"
#include "sadi/eval/task.hpp"
#include "sadi/model/model.hpp"
#include "sadi/model/tokenizer.hpp"
#include "sadi/steer/intervention.hpp"
#include "sadi/steer/planner.hpp"

namespace sadi {

// Where the items come from: a test file, and a dev file or a seeded fraction of the test file.
struct SplitSource {
  std::filesystem::path task;
  std::optional<std::filesystem::path> dev_file;
  std::optional<double> dev_fraction;
};

struct EvalSplits {
  std::vector<TaskItem> test, dev;  // this shard's items
  size_t n_test_all = 0, n_dev_all = 0;  // the whole splits
  std::vector<std::string> dev_prompts_all;  // the whole dev split's prompts (calibration, any shard)
  bool has_dev() const { return n_dev_all > 0; }
};

// Reads, splits and shards; throws naming the file, line or field.
EvalSplits load_splits(const SplitSource& source, uint64_t seed, const Shard& shard);

// The mask a grid was planned from, as results record it.
struct MaskRecord {
  std::filesystem::path file;
  Json provenance = Json::object();  // the mask file's attributes
};
MaskRecord mask_record(const std::filesystem::path& file, const MaskFile& mask);

struct EvalJob {
  SplitSource source;
  EvalSplits splits;
  Shard shard;
  uint64_t seed = 0;  // dev split, random baseline, bootstrap (also grid.common.seed)
  EvalRun run;
  // The grid: K, delta, the baselines' grids, mode, site and CAA's layers (grid.methods is
  // filled by plan_eval from `baselines`).
  GridSpec grid;
  // As the user gave them (recorded in results and the resume configuration).
  std::vector<std::string> baselines{"none"};
  std::string site = "head";
  std::string caa_layers;
  std::filesystem::path mask_file;  // empty: unsteered only
  bool timing = false;  // keep seconds per point (then results differ from run to run)
  // Filled by plan_eval:
  std::vector<Intervention> points;  // planned grid: the unsteered point first
  int64_t calibration_items = 0;  // dev prompts the fixed controls were calibrated on (0: none)
  std::optional<MaskRecord> mask;
};

// Reads the mask (checked against the model), calibrates the fixed controls on the dev split
// where they need it, and plans the grid: the unsteered point, then SADI and the baselines.
// Without a mask only `none` may be listed. Throws sadi::Error naming the field or the file.
void plan_eval(Model& model, const Tokenizer& tok, EvalJob& job);

// The outcome of a run: a complete result, or (interrupted) the partial result to save.
struct EvalOutcome {
  bool complete = false;
  EvalResult result;     // complete
  Json partial;          // interrupted: "partial": true, the resume configuration and rows done
  std::string progress;  // interrupted: how far it got, in words
};

// Everything that decides the rows and their values: a partial result resumes only under the
// same configuration (paths may differ; files are compared by hash).
Json resume_config(const EvalJob& job, const Model& model);

// --resume over a complete result: throws sadi::Error (input) naming `origin` and the first key
// of the result's header (model fingerprint, task and dev hashes, mask, metric, mode, site, grid,
// exact-match rule, seed, shard) that differs from this job's, so that "nothing to do" is only
// said of the same run.
void check_complete_is_this_run(const Json& complete, const EvalJob& job, const Model& model, const std::string& origin);


// Runs the job (continuing `resume_from`, a partial result read from `origin`, when given).
// Between batches an interruption (sadi/core/interrupt.hpp) ends the run with a partial outcome.
EvalOutcome run_eval(Model& model, const Tokenizer& tok, const EvalJob& job, const Json* resume_from,
                     const std::string& origin, const std::string& command_line);

}  // namespace sadi
