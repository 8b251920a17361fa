// The identification job (job.hpp): pairs in, a mask with its provenance out.
#include "sadi/identify/job.hpp"

#include "sadi/core/error.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/sha256.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/core/version.hpp"
#include "sadi/model/tensor_types.hpp"

namespace sadi {
namespace {

namespace fs = std::filesystem;

MaskProvenance provenance(const Model& model, const IdentifyJob& job, const IdentifyStats& stats,
                          const std::string& command_line) {
  const ModelInfo& info = model.info();
  const IdentifyOptions& o = job.options;
  MaskProvenance p;
  p.model_fingerprint = info.fingerprint;
  p.model_dir = fs::absolute(info.dir).string();
  p.architecture = info.architecture;
  p.dtype = dtype_name(model.dtype());
  p.device = model.device().str();
  p.pairs_file = fs::absolute(job.pairs_file).string();
  p.pairs_sha256 = sha256_file(job.pairs_file);
  p.n_layers = info.n_layers;
  p.pairs_in_file = job.pairs_in_file;
  p.pairs_used = stats.used;
  p.pairs_skipped = stats.skipped;
  p.skipped_ids = join(stats.skipped_ids, ",");
  p.position = position_name(o.position);
  p.rank = rank_name(o.rank);
  p.separator = o.separator;
  p.strip = o.strip;
  p.batch_invariant = model.batch_invariant();
  p.prefix_sharing = o.prefix_sharing;
  p.max_length = o.max_length;
  p.batch_size = o.batch_size;
  p.bootstrap = o.bootstrap;
  p.seed = static_cast<int64_t>(o.seed);
  if (o.iti) p.iti_val_fraction = o.iti_val_fraction;
  if (!job.shard.whole()) p.shard = job.shard;
  p.tool_version = str("sadi ", version());
  p.command_line = command_line;
  return p;
}

}  // namespace

void load_identify_pairs(IdentifyJob& job) {
  IdentifyOptions& o = job.options;
  if (o.top_k < 0) throw_field(ErrorKind::kUsage, "top_k", str(": expected 0 or a positive integer, found ", o.top_k));
  if (!(o.iti_val_fraction > 0 && o.iti_val_fraction < 1)) {
    throw_field(ErrorKind::kUsage, "iti_val_fraction",
                str(": expected a number between 0 and 1 (exclusive), found ", o.iti_val_fraction));
  }
  if (job.max_pairs < 0) throw_field(ErrorKind::kUsage, "max_pairs", str(": expected 0 or more, found ", job.max_pairs));
  if (!job.shard.whole()) {
    if (o.bootstrap > 0) throw_field(ErrorKind::kUsage, "bootstrap", " needs every pair: run it unsharded");
    if (o.iti) log::info("identify: sharded: no ITI probes (they need every pair; the merged mask has none either)");
    o.iti = false;
    o.keep_stats = true;
  }
  auto pairs = read_pairs(job.pairs_file);
  job.pairs_in_file = static_cast<int64_t>(pairs.size());
  if (job.max_pairs > 0 && job.max_pairs < job.pairs_in_file) pairs.resize(static_cast<size_t>(job.max_pairs));
  const size_t taken = pairs.size();
  job.pairs = select_shard(std::move(pairs), job.shard);
  if (job.pairs.empty()) {
    throw_field(ErrorKind::kInput, "shard", str(" ", job.shard.name(), ": no pairs (", taken, " in all)"));
  }
}

MaskFile run_identify(Model& model, const Tokenizer& tok, const IdentifyJob& job, const std::string& command_line,
                      IdentifyStats& stats, const ProgressFn& progress) {
  MaskFile mask;
  mask.sites = identify(model, tok, job.pairs, job.options, stats, progress);
  mask.provenance = provenance(model, job, stats, command_line);
  return mask;
}

}  // namespace sadi
