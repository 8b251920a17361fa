#pragma once
// The optional parts of a site group (docs/identify.md, "Mask file"): z-scores, ITI's per-head direction,
// spread and probe accuracy (/head/iti), and bootstrap stability (/SITE/stability). Files
// written before they existed lack them; readers take what is there.
#include <hdf5.h>

#include <string>

#include "sadi/core/mask_scores.hpp"

namespace sadi {

void write_evidence(hid_t group, const SiteScores& s, const std::string& where);
void read_evidence(hid_t group, SiteScores& s, const std::string& where);

}  // namespace sadi
