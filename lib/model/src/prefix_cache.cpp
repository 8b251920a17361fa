#include "sadi/model/prefix_cache.hpp"

#include <algorithm>
#include <map>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/batch.hpp"

namespace sadi {

std::vector<std::vector<int64_t>> distinct_prompts(const std::vector<const std::vector<int64_t>*>& rows,
                                                   const std::vector<int64_t>& n, std::vector<size_t>& entry) {
  std::map<std::vector<int64_t>, size_t> index;  // prompt ids -> distinct prompt
  std::vector<std::vector<int64_t>> prompts;
  entry.assign(rows.size(), 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    std::vector<int64_t> p(rows[r]->begin(), rows[r]->begin() + n[r]);
    auto [it, added] = index.emplace(std::move(p), prompts.size());
    if (added) prompts.push_back(it->first);
    entry[r] = it->second;
  }
  return prompts;
}

PrefixCache::PrefixCache(Model& model, std::vector<Site> capture) : model_(model), capture_(std::move(capture)) {}

int64_t PrefixCache::bytes_per_token(const ModelInfo& info, torch::ScalarType dtype) {
  return 2 * info.n_layers * info.n_kv_heads * info.head_dim * static_cast<int64_t>(c10::elementSize(dtype));
}

std::vector<int64_t> PrefixCache::chunks(const std::vector<int64_t>& tokens, int64_t bytes_per_token, int64_t budget) {
  std::vector<int64_t> chunk(tokens.size());
  int64_t c = 0, used = 0;
  for (size_t p = 0; p < tokens.size(); ++p) {
    const int64_t bytes = tokens[p] * bytes_per_token;
    if (used > 0 && used + bytes > budget) {
      ++c;
      used = 0;
    }
    used += bytes;
    chunk[p] = c;
  }
  return chunk;
}

void PrefixCache::fill(const std::vector<std::vector<int64_t>>& prompts, int64_t batch_size) {
  if (batch_size <= 0) throw_field(ErrorKind::kUsage, "batch_size", str(": expected a positive integer, found ", batch_size));
  blocks_.clear();
  entries_.assign(prompts.size(), Entry{});
  tokens_run_ = 0;
  // The block tree: a block is its predecessor and its tokens; equal ones are one block.
  std::map<std::pair<int64_t, std::vector<int64_t>>, size_t> index;
  std::map<int64_t, std::vector<size_t>> depth;  // first token -> blocks, in order of first appearance
  for (size_t p = 0; p < prompts.size(); ++p) {
    const auto n = static_cast<int64_t>(prompts[p].size());
    if (n == 0) throw_input(str("PrefixCache: prompt ", p + 1, " has no token"));
    entries_[p].kept = n - 1;
    int64_t parent = -1;
    for (int64_t begin = 0; begin < n; begin = block_end(begin)) {
      std::vector<int64_t> ids(prompts[p].begin() + begin, prompts[p].begin() + std::min(n, block_end(begin)));
      auto [it, added] = index.emplace(std::make_pair(parent, ids), blocks_.size());
      if (added) {
        blocks_.push_back(Block{parent, begin, std::move(ids), false, {}, {}, {}});
        depth[begin].push_back(it->second);
      }
      parent = static_cast<int64_t>(it->second);
      entries_[p].blocks.push_back(it->second);
    }
    blocks_[entries_[p].blocks.back()].ends_prompt = true;
  }
  const bool same_length = model_.batch_invariant();
  for (auto& [begin, level] : depth) {
    std::stable_sort(level.begin(), level.end(), [&](size_t a, size_t b) { return blocks_[a].ids.size() < blocks_[b].ids.size(); });
    for (size_t first = 0; first < level.size();) {
      size_t last = first + 1;
      while (last < level.size() && static_cast<int64_t>(last - first) < batch_size &&
             (!same_length || blocks_[level[last]].ids.size() == blocks_[level[first]].ids.size())) {
        ++last;
      }
      run_blocks(std::vector<size_t>(level.begin() + static_cast<long>(first), level.begin() + static_cast<long>(last)));
      first = last;
    }
  }
}

std::vector<size_t> PrefixCache::chain(size_t block) const {
  std::vector<size_t> out;
  for (int64_t b = blocks_[block].parent; b >= 0; b = blocks_[static_cast<size_t>(b)].parent) out.push_back(static_cast<size_t>(b));
  std::reverse(out.begin(), out.end());
  return out;
}

// One forward over blocks of one depth: each row's predecessors' K/V in slots [0, w), its tokens
// from slot w on, right-padded to the longest (padding attends to nothing after a real token).
void PrefixCache::run_blocks(const std::vector<size_t>& which) {
  const ModelInfo& info = model_.info();
  const auto n = static_cast<int64_t>(which.size());
  const int64_t w = blocks_[which[0]].begin;
  int64_t t = 0;
  for (size_t b : which) t = std::max(t, static_cast<int64_t>(blocks_[b].ids.size()));
  const auto dev = torch::TensorOptions().device(model_.device());
  KvCache cache(info, n, w + t, model_.dtype(), model_.device());
  auto ids = torch::zeros({n, t}, torch::kInt64), pos = torch::empty({n, t}, torch::kInt64);  // [n, t]
  auto key_mask = torch::zeros({n, w + t}, torch::kBool), last = torch::empty({n, 1}, torch::kInt64);
  key_mask.slice(1, 0, w).fill_(true);
  for (int64_t r = 0; r < n; ++r) {
    const Block& blk = blocks_[which[static_cast<size_t>(r)]];
    const auto len = static_cast<int64_t>(blk.ids.size());
    ids[r].slice(0, 0, len).copy_(torch::tensor(blk.ids, torch::kInt64));
    pos[r].copy_(torch::arange(w, w + t, torch::kInt64).clamp_max(w + len - 1));
    key_mask[r].slice(0, w, w + len).fill_(true);
    last[r][0] = len - 1;
    int64_t at = 0;
    for (size_t a : chain(which[static_cast<size_t>(r)])) {
      const Block& anc = blocks_[a];
      const auto alen = static_cast<int64_t>(anc.ids.size());
      for (int64_t l = 0; l < info.n_layers; ++l) {
        cache.k[static_cast<size_t>(l)][r].slice(1, at, at + alen).copy_(anc.k[static_cast<size_t>(l)]);
        cache.v[static_cast<size_t>(l)][r].slice(1, at, at + alen).copy_(anc.v[static_cast<size_t>(l)]);
      }
      at += alen;
    }
  }
  ForwardInput in{ids.to(model_.device()), pos.to(model_.device()), key_mask.to(model_.device()), w,
                  torch::empty({n, 0}, dev.dtype(torch::kInt64)), nullptr, {}};
  for (Site s : capture_) in.capture[s] = last.to(model_.device());  // [n, 1]: each block's last token
  ForwardOutput out = model_.forward(in, &cache);
  for (int64_t r = 0; r < n; ++r) {
    Block& blk = blocks_[which[static_cast<size_t>(r)]];
    const auto len = static_cast<int64_t>(blk.ids.size());
    tokens_run_ += len;
    for (int64_t l = 0; l < info.n_layers; ++l) {
      blk.k.push_back(cache.k[static_cast<size_t>(l)][r].slice(1, w, w + len).clone());  // [Hkv, len, Dh]
      blk.v.push_back(cache.v[static_cast<size_t>(l)][r].slice(1, w, w + len).clone());
    }
    if (blk.ends_prompt) {
      for (Site s : capture_) blk.clean[s] = out.captured.at(s)[r][0].clone();  // [L, U]
    }
  }
}

PrefixStart PrefixCache::start(const std::vector<size_t>& entries, int64_t extra, int64_t first_layer) const {
  if (entries.empty()) throw_runtime("PrefixCache::start: no rows");
  int64_t w = 0;
  for (size_t e : entries) w = std::max(w, entries_.at(e).kept);
  const auto b = static_cast<int64_t>(entries.size());
  PrefixStart s{KvCache(model_.info(), b, w + extra, model_.dtype(), model_.device(), first_layer),
                torch::zeros({b, w}, torch::kBool), w};
  for (int64_t r = 0; r < b; ++r) {
    const Entry& e = entries_[entries[static_cast<size_t>(r)]];
    if (e.kept == 0) continue;
    s.key_mask[r].slice(0, w - e.kept, w).fill_(true);
    for (size_t id : e.blocks) {  // block tokens [begin, begin + len) of the kept [0, kept)
      const Block& blk = blocks_[id];
      const int64_t len = std::min(static_cast<int64_t>(blk.ids.size()), e.kept - blk.begin);
      if (len <= 0) break;
      const int64_t at = w - e.kept + blk.begin;
      for (auto l = static_cast<size_t>(first_layer); l < blk.k.size(); ++l) {
        s.cache.k[l][r].slice(1, at, at + len).copy_(blk.k[l].slice(1, 0, len));
        s.cache.v[l][r].slice(1, at, at + len).copy_(blk.v[l].slice(1, 0, len));
      }
    }
  }
  s.key_mask = s.key_mask.to(model_.device());
  return s;
}

bool PrefixCache::captures(Site site) const {
  return std::find(capture_.begin(), capture_.end(), site) != capture_.end();
}

torch::Tensor PrefixCache::clean(Site site, const std::vector<size_t>& entries) const {
  std::vector<torch::Tensor> rows;
  for (size_t e : entries) {
    const auto& c = blocks_[entries_.at(e).blocks.back()].clean;
    auto it = c.find(site);
    if (it == c.end()) throw_runtime(str("PrefixCache: site '", site_name(site), "' was not captured"));
    rows.push_back(it->second);
  }
  return torch::stack(rows);  // [B, L, U]
}

}  // namespace sadi
