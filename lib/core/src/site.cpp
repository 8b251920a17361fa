#include "sadi/core/site.hpp"

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

const char* site_name(Site s) {
  switch (s) {
    case Site::kHead: return "head";
    case Site::kNeuron: return "neuron";
    case Site::kHidden: return "hidden";
    case Site::kResidual: return "residual";
  }
  return "?";
}

namespace {
std::string flag_prefix(const std::string& where) { return where.empty() ? "" : where + ": "; }
}  // namespace

Site parse_site(const std::string& name, const std::string& where) {
  for (Site s : kAllSites) {
    if (name == site_name(s)) return s;
  }
  throw_usage(str(flag_prefix(where), "unknown site '", name,
                  "': expected one of head, neuron, hidden, residual"));
}

std::vector<Site> parse_sites(const std::string& list, const std::string& where) {
  std::vector<Site> out;
  for (const auto& part : split(list, ',')) {
    Site s = parse_site(trim(part), where);
    for (Site seen : out) {
      if (seen == s) throw_usage(str(flag_prefix(where), "site '", site_name(s), "' is listed twice in '", list, "'"));
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace sadi
