// sadi identify: contrastive pairs -> ranked elements and masks in an HDF5 file. Flags become an
// IdentifyJob (lib/identify/job.hpp); the mask becomes the file.
#include <iomanip>
#include <sstream>

#include "commands.hpp"
#include "flags.hpp"
#include "model_options.hpp"
#include "options.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/progress.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/io/mask_file.hpp"
#include "sadi/steer/planner.hpp"

namespace sadi::app {
namespace {

const FlagNames kIdentifyFlags{{"top_k", "--top-k"},   {"iti_val_fraction", "--iti-val-fraction"},
                               {"bootstrap", "--bootstrap"}, {"max_pairs", "--max-pairs"},
                               {"shard", "--shard"},   {"batch_size", "--batch-size"},
                               {"sites", "--sites"},   {"position", "--position"},
                               {"rank", "--rank"}};

std::string summary(const IdentifyStats& stats, const fs::path& out) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << "identify: " << stats.used << " pairs used, " << stats.skipped
     << " skipped (too long), " << stats.seconds << " s, " << static_cast<double>(stats.used) / stats.seconds
     << " pairs/s -> " << out.string();
  return os.str();
}

}  // namespace

int cmd_identify(const Args& args) {
  cxxopts::Options opts(args[0], "Find the elements that separate right from wrong answers (SADI steps 1-2).");
  add_identify_options(opts);
  add_model_options(opts);
  add_prefix_sharing_option(opts, "true: each prompt's K/V is computed once for both sequences of its pair "
                            "(docs/identify.md); false: every sequence runs its whole prompt");
  add_common_options(opts);
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  IdentifyJob job = with_flag_names(kIdentifyFlags, [&] { return identify_job_from_flags(r); });
  const fs::path out_path = guarded_out(r, inputs_of(r, {"model", "pairs"}));  // before the long run
  with_flag_names(kIdentifyFlags, [&] { load_identify_pairs(job); });
  auto model = load_model_from_flags(r["model"].as<std::string>(), r);
  auto tok = load_tokenizer(model->info());
  // From here on SIGINT/SIGTERM stop the run cleanly between batches (docs/errors.md); the
  // other commands keep the default action.
  install_interrupt_handlers();
  log::info(str("identify: ", job.pairs.size(), " pairs from ", job.pairs_file.string(), ", sites ",
                r["sites"].as<std::string>(), ", batch ", job.options.batch_size, " on ", model->device().str()));
  IdentifyStats stats;
  ProgressLine progress("identify", "pairs");
  const MaskFile mask = with_flag_names(kIdentifyFlags, [&] {
    return run_identify(*model, *tok, job, command_line(args), stats,
                        [&](int64_t done, int64_t total) { progress.update(done, total); });
  });
  progress.finish();
  write_mask_file(out_path, mask);
  for (const auto& s : mask.sites) {  // a warning for each site whose top-K would change much with other pairs
    for (const auto& w : stability_warnings(s, {job.options.top_k})) {
      log::warn(str("identify: ", w, "; more pairs or a smaller K would make it firmer"));
    }
  }
  log::info(summary(stats, out_path));
  return 0;
}

}  // namespace sadi::app
