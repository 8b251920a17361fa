#pragma once
// Identification as a library job: where the pairs come from (file, how many, which shard) and
// how they are read -> run_identify -> the mask file's contents (sites and provenance).
// apps/sadi/cmd_identify.cpp only turns flags into an IdentifyJob and the mask into a file.
// Errors name the job's fields ("shard", "bootstrap", ...); the command maps them to flags.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sadi/core/mask_scores.hpp"
#include "sadi/core/shard.hpp"
#include "sadi/data/pairs.hpp"
#include "sadi/identify/identify.hpp"
#include "sadi/model/model.hpp"
#include "sadi/model/tokenizer.hpp"

namespace sadi {

struct IdentifyJob {
  std::filesystem::path pairs_file;
  int64_t max_pairs = 0;  // use at most this many pairs, in file order (0: all)
  Shard shard;            // not whole: this shard's pairs, statistics kept for merging, no ITI
  IdentifyOptions options;
  // Filled by load_identify_pairs:
  std::vector<Pair> pairs;     // the pairs this run uses
  int64_t pairs_in_file = 0;
};

// Checks the options against each other (a shard cannot bootstrap), reads the pairs, keeps the
// first max_pairs and then this shard's, and (sharded) switches ITI off and statistics on.
// Throws sadi::Error naming the field, or the file and line.
void load_identify_pairs(IdentifyJob& job);

// Runs identify over the job's pairs and returns the mask with its provenance (the model, the
// pairs file and its hash, every option that decides the numbers, `command_line`).
MaskFile run_identify(Model& model, const Tokenizer& tok, const IdentifyJob& job, const std::string& command_line,
                      IdentifyStats& stats, const ProgressFn& progress = {});

}  // namespace sadi
