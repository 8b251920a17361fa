#include "sadi/core/mask_scores.hpp"

namespace sadi {

const SiteScores* MaskFile::find(Site s) const {
  for (const auto& site : sites) {
    if (site.site == s) return &site;
  }
  return nullptr;
}

}  // namespace sadi
