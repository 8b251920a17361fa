#pragma once
// The four SADI sites (a core vocabulary shared by model, io and identify). The exporter's site table (scripts/sadi_export/sites.py) is the source
// of truth for their shapes; manifest.json carries it and ModelInfo exposes it.
#include <array>
#include <string>
#include <vector>

namespace sadi {

enum class Site { kHead = 0, kNeuron = 1, kHidden = 2, kResidual = 3 };

inline constexpr std::array<Site, 4> kAllSites = {Site::kHead, Site::kNeuron, Site::kHidden, Site::kResidual};

const char* site_name(Site s);
// Parses one site name; throws sadi::Error (usage) listing the valid names.
Site parse_site(const std::string& name, const std::string& where = "");  // where: e.g. "--site"
// Parses "head,neuron" (comma separated, no duplicates).
std::vector<Site> parse_sites(const std::string& list, const std::string& where = "");

}  // namespace sadi
