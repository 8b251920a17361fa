#include "sadi/model/mask_check.hpp"

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

void check_mask_matches_model(const MaskFile& mask, const std::filesystem::path& mask_path, const ModelInfo& model) {
  const std::string where = mask_path.string();
  const auto& fingerprint = mask.provenance.model_fingerprint;
  if (!fingerprint) throw_input(str(where, ": attribute 'model_fingerprint' missing"));
  if (*fingerprint != model.fingerprint) {
    throw_input(str(where, ": made for another model: attribute 'model_fingerprint' is ", fingerprint->substr(0, 23),
                    "..., the model in ", model.dir.string(), " has ", model.fingerprint.substr(0, 23), "..."));
  }
  for (const auto& s : mask.sites) {
    const SiteInfo& info = model.site(s.site);
    if (s.n_layers != model.n_layers || s.units != info.score_units || s.group != info.group) {
      throw_input(str(where, ": /", site_name(s.site), " has ", s.n_layers, " layers x ", s.units, " units (group ",
                      s.group, "), the model has ", model.n_layers, " x ", info.score_units, " (group ", info.group, ")"));
    }
  }
}

}  // namespace sadi
