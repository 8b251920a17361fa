#include "sadi/identify/merge_masks.hpp"

#include <algorithm>
#include <map>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/identify/identify.hpp"

namespace sadi {
namespace {

// The provenance every shard of one run shares.
const char* const kSameText[] = {"model_fingerprint", "pairs_sha256", "position", "rank", "separator", "strip"};
const char* const kSameInt[] = {"max_length", "pairs_in_file", "n_layers"};

std::string text_of(const MaskFile& m, const std::string& key) {
  auto it = m.provenance.text.find(key);
  return it == m.provenance.text.end() ? std::string() : it->second;
}

// (index, count) of a shard's "shard" attribute "I/N".
std::pair<int64_t, int64_t> shard_of(const std::string& file, const MaskFile& m) {
  const std::string s = text_of(m, "shard");
  const auto parts = split(s, '/');
  try {
    if (parts.size() == 2) {
      const int64_t i = std::stoll(parts[0]), n = std::stoll(parts[1]);
      if (n >= 1 && i >= 1 && i <= n) return {i, n};
    }
  } catch (const std::exception&) {
  }
  throw_input(str(file, ": attribute 'shard': expected I/N (a mask of sadi identify --shard), found '", s, "'"));
}

void check_same_run(const std::string& file, const MaskFile& m, const std::string& first_file, const MaskFile& first) {
  for (const char* key : kSameText) {
    if (text_of(m, key) != text_of(first, key)) {
      throw_input(str(file, ": attribute '", key, "': '", text_of(m, key), "', but ", first_file, " has '",
                      text_of(first, key), "' (shards of another run)"));
    }
  }
  for (const char* key : kSameInt) {
    auto a = m.provenance.integer.find(key), b = first.provenance.integer.find(key);
    const bool same = (a == m.provenance.integer.end()) == (b == first.provenance.integer.end()) &&
                      (a == m.provenance.integer.end() || a->second == b->second);
    if (!same) throw_input(str(file, ": attribute '", key, "' differs from ", first_file, "'s (shards of another run)"));
  }
  if (m.sites.size() != first.sites.size()) {
    throw_input(str(file, ": ", m.sites.size(), " sites, but ", first_file, " has ", first.sites.size()));
  }
}

SiteStats stats_of(const std::string& file, const SiteScores& s) {
  if (!s.has_stats()) {
    throw_input(str(file, ": /", site_name(s.site), ": no stat_mean/stat_m2 datasets (not written by sadi identify "
                          "--shard)"));
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
  const int64_t count = shard_of(first_file, first).second;
  for (const auto& shard : shards) {
    const auto [i, n] = shard_of(shard.first, shard.second);
    if (n != count) throw_input(str(shard.first, ": attribute 'shard': ", i, "/", n, ", but ", first_file, " is of ", count));
    if (by_index.count(i)) throw_input(str(shard.first, ": shard ", i, "/", n, " given twice (also ", by_index[i]->first, ")"));
    check_same_run(shard.first, shard.second, first_file, first);
    by_index[i] = &shard;
  }
  for (int64_t i = 1; i <= count; ++i) {
    if (!by_index.count(i)) throw_input(str("sadi merge: shard ", i, "/", count, " is missing"));
  }
  MaskFile out;
  out.provenance = first.provenance;
  out.provenance.text.erase("shard");
  out.provenance.integer.erase("format_version");  // the writer writes its own
  out.provenance.text["merged_shards"] = str(count);
  out.provenance.text["command_line"] = command_line;
  out.provenance.text.erase("iti_val_fraction");
  int64_t used = 0, skipped = 0;
  std::vector<std::string> skipped_ids;
  for (const auto& [i, shard] : by_index) {
    used += shard->second.provenance.integer.count("pairs_used") ? shard->second.provenance.integer.at("pairs_used") : 0;
    skipped += shard->second.provenance.integer.count("pairs_skipped") ? shard->second.provenance.integer.at("pairs_skipped") : 0;
    const std::string ids = text_of(shard->second, "skipped_ids");
    if (!ids.empty()) skipped_ids.push_back(ids);
  }
  out.provenance.integer["pairs_used"] = used;
  out.provenance.integer["pairs_skipped"] = skipped;
  out.provenance.text["skipped_ids"] = join(skipped_ids, ",");
  const RankRule rank = parse_rank(text_of(first, "rank"));
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
