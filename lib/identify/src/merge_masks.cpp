#include "sadi/identify/merge_masks.hpp"

#include <algorithm>
#include <map>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/identify/identify.hpp"
#include "sadi/io/mask_file.hpp"

namespace sadi {
namespace {

// The provenance every shard of one run shares.
const char* const kSameText[] = {"model_fingerprint", "pairs_sha256", "position", "rank", "separator", "strip"};
const char* const kSameInt[] = {"max_length", "pairs_in_file", "n_layers"};

std::string text_of(const MaskAttributes& a, const std::string& key) {
  auto it = a.text.find(key);
  return it == a.text.end() ? std::string() : it->second;
}

// A shard's "shard" attribute (I/N).
Shard shard_of(const std::string& file, const MaskFile& m) {
  if (m.provenance.shard) return *m.provenance.shard;
  throw_input(str(file, ": attribute 'shard': expected I/N (a mask of a sharded sadi identify run), found '",
                  text_of(mask_attributes(m.provenance), "shard"), "'"));
}

void check_same_run(const std::string& file, const MaskFile& m, const std::string& first_file, const MaskFile& first) {
  const MaskAttributes a = mask_attributes(m.provenance), b = mask_attributes(first.provenance);
  for (const char* key : kSameText) {
    if (text_of(a, key) != text_of(b, key)) {
      throw_input(str(file, ": attribute '", key, "': '", text_of(a, key), "', but ", first_file, " has '",
                      text_of(b, key), "' (shards of another run)"));
    }
  }
  for (const char* key : kSameInt) {
    auto x = a.integer.find(key), y = b.integer.find(key);
    const bool same = (x == a.integer.end()) == (y == b.integer.end()) && (x == a.integer.end() || x->second == y->second);
    if (!same) throw_input(str(file, ": attribute '", key, "' differs from ", first_file, "'s (shards of another run)"));
  }
  if (m.sites.size() != first.sites.size()) {
    throw_input(str(file, ": ", m.sites.size(), " sites, but ", first_file, " has ", first.sites.size()));
  }
}

SiteStats stats_of(const std::string& file, const SiteScores& s) {
  if (!s.has_stats()) {
    throw_input(str(file, ": /", site_name(s.site), ": no stat_mean/stat_m2 datasets (not written by a sharded sadi "
                          "identify run)"));
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  auto tensor = [&](const std::vector<double>& v, std::vector<int64_t> shape) {
    return torch::from_blob(const_cast<double*>(v.data()), shape, f64).clone();
  };
  SiteStats st;
  st.n = s.count;
  st.mean = tensor(s.stat_mean, {s.n_layers, s.units});
  st.m2 = tensor(s.stat_m2, {s.n_layers, s.units});
  if (!s.stat_full_sum.empty()) st.full_sum = tensor(s.stat_full_sum, {s.n_layers, s.units * s.group});
  return st;
}

}  // namespace

MaskFile merge_mask_shards(const std::vector<std::pair<std::string, MaskFile>>& shards, const std::string& command_line) {
  if (shards.empty()) throw_usage("sadi merge: no mask shards given");
  std::map<int64_t, const std::pair<std::string, MaskFile>*> by_index;
  const auto& [first_file, first] = shards.front();
  const int64_t count = shard_of(first_file, first).count;
  for (const auto& shard : shards) {
    const Shard sh = shard_of(shard.first, shard.second);
    const int64_t i = sh.index, n = sh.count;
    if (n != count) throw_input(str(shard.first, ": attribute 'shard': ", i, "/", n, ", but ", first_file, " is of ", count));
    if (by_index.count(i)) throw_input(str(shard.first, ": shard ", i, "/", n, " given twice (also ", by_index[i]->first, ")"));
    check_same_run(shard.first, shard.second, first_file, first);
    by_index[i] = &shard;
  }
  for (int64_t i = 1; i <= count; ++i) {
    if (by_index.count(i)) continue;
    std::string given;
    for (const auto& [index, shard] : by_index) given += str(given.empty() ? "" : ", ", shard->first, " (", index, "/", count, ")");
    throw_input(str("sadi merge: shard ", i, "/", count, " is missing (given: ", given, ")"));
  }
  MaskFile out;
  out.provenance = first.provenance;
  MaskProvenance& p = out.provenance;
  p.shard.reset();
  p.format_version.reset();  // the writer writes its own
  p.iti_val_fraction.reset();
  p.merged_shards = count;
  p.command_line = command_line;
  int64_t used = 0, skipped = 0;
  std::vector<std::string> skipped_ids;
  for (const auto& [i, shard] : by_index) {
    used += shard->second.provenance.pairs_used.value_or(0);
    skipped += shard->second.provenance.pairs_skipped.value_or(0);
    const std::string ids = shard->second.provenance.skipped_ids.value_or("");
    if (!ids.empty()) skipped_ids.push_back(ids);
  }
  p.pairs_used = used;
  p.pairs_skipped = skipped;
  p.skipped_ids = join(skipped_ids, ",");
  const RankRule rank = parse_rank(first.provenance.rank.value_or(""));
  for (const SiteScores& s0 : first.sites) {
    SiteStats total;
    for (const auto& [i, shard] : by_index) {
      const SiteScores* s = shard->second.find(s0.site);
      if (!s || s->n_layers != s0.n_layers || s->units != s0.units || s->group != s0.group || s->top_k != s0.top_k) {
        throw_input(str(shard->first, ": /", site_name(s0.site), ": missing or of another shape than in ", first_file));
      }
      total = combine_stats(total, stats_of(shard->first, *s));
    }
    out.sites.push_back(scores_from_stats(s0.site, s0.units, s0.group, total, rank, s0.top_k, /*keep_stats=*/true));
  }
  return out;
}

}  // namespace sadi
