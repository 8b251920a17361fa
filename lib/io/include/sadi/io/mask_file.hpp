#pragma once
// Mask files (HDF5): what `sadi identify` writes and steering reads. Only lib/io touches HDF5.
// Layout (docs/identify.md, "Mask file"): file attributes = provenance; one group per site with
// mean_diff [L, U], std [L, U], ranking [L*U, 2] (layer, unit), ranking_score [L*U],
// optional mask [L, U] (top-K), and for heads mean_diff_full [L, H*Dh].
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sadi/core/json.hpp"
#include "sadi/core/mask_scores.hpp"

namespace sadi {

// A mask's root attributes as stored: strings and integers, by name.
struct MaskAttributes {
  std::map<std::string, std::string> text;
  std::map<std::string, int64_t> integer;
};

// The provenance codec: the one list of attribute names and how each typed field is stored
// (booleans as "true"/"false", the shard as "I/N", numbers in text as written by identify).
MaskAttributes mask_attributes(const MaskProvenance& p);
// Attributes that do not parse as their field's type are kept in other_text/other_integer.
MaskProvenance provenance_from_attributes(const MaskAttributes& a);
// Every attribute as one JSON object (sadi inspect --json, the results' "mask" record).
Json provenance_json(const MaskProvenance& p);

// Writes atomically (temporary sibling, then rename); nothing is left behind on failure.
void write_mask_file(const std::filesystem::path& path, const MaskFile& mask);
// Reads and validates shapes; throws sadi::Error naming the file and the dataset or attribute.
// Warns (the mask is still used) when its numbers no longer match the recorded content_sha256.
MaskFile read_mask_file(const std::filesystem::path& path);

// "sha256:<hex>" over every site's numbers, sites in kAllSites order (the root attribute
// content_sha256); the second form in a given order (masks stamped before the order was fixed).
std::string mask_content_sha256(const MaskFile& mask);
std::string mask_content_sha256(const MaskFile& mask, const std::vector<Site>& order);
// Whether `recorded` is the hash of the mask's sites in kAllSites order or in any other order.
bool mask_content_hash_matches(const MaskFile& mask, const std::string& recorded);

}  // namespace sadi
