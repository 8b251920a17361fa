#include "sadi/model/prefix_cache.hpp"

#include <algorithm>
#include <map>
#include <numeric>

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

void PrefixCache::fill(const std::vector<std::vector<int64_t>>& prompts, int64_t batch_size) {
  if (batch_size <= 0) throw_field(ErrorKind::kUsage, "batch_size", str(": expected a positive integer, found ", batch_size));
  entries_.assign(prompts.size(), Entry{});
  std::vector<size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prompts[a].size() < prompts[b].size(); });
  const bool same_length = model_.batch_invariant();
  for (size_t first = 0; first < order.size();) {
    size_t last = first + 1;
    while (last < order.size() && static_cast<int64_t>(last - first) < batch_size &&
           (!same_length || prompts[order[last]].size() == prompts[order[first]].size())) {
      ++last;
    }
    run_batch(prompts, std::vector<size_t>(order.begin() + static_cast<long>(first), order.begin() + static_cast<long>(last)));
    first = last;
  }
}

void PrefixCache::run_batch(const std::vector<std::vector<int64_t>>& prompts, const std::vector<size_t>& which) {
  const ModelInfo& info = model_.info();
  std::vector<std::vector<int64_t>> rows;
  for (size_t i : which) rows.push_back(prompts[i]);
  const PaddedBatch batch = left_pad(rows, 0, model_.device());
  const auto n = static_cast<int64_t>(rows.size());
  const int64_t w = batch.width;
  KvCache cache(info, n, w, model_.dtype(), model_.device());
  ForwardInput in{batch.input_ids, batch.positions, batch.key_mask, 0,
                  torch::empty({n, 0}, torch::TensorOptions().dtype(torch::kInt64).device(model_.device())), nullptr, {}};
  const auto last = torch::full({n, 1}, w - 1, torch::TensorOptions().dtype(torch::kInt64).device(model_.device()));
  for (Site s : capture_) in.capture[s] = last;  // [n, 1]: each row's last prompt token
  ForwardOutput out = model_.forward(in, &cache);
  for (int64_t r = 0; r < n; ++r) {
    Entry& e = entries_[which[static_cast<size_t>(r)]];
    e.kept = batch.lengths[static_cast<size_t>(r)] - 1;
    for (int64_t l = 0; l < info.n_layers; ++l) {  // slots [w - 1 - kept, w - 1): all but the last token
      e.k.push_back(cache.k[static_cast<size_t>(l)][r].slice(1, w - 1 - e.kept, w - 1).clone());  // [Hkv, P, Dh]
      e.v.push_back(cache.v[static_cast<size_t>(l)][r].slice(1, w - 1 - e.kept, w - 1).clone());
    }
    for (Site s : capture_) e.clean[s] = out.captured.at(s)[r][0].clone();  // [L, U]
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
    for (auto l = static_cast<size_t>(first_layer); l < e.k.size(); ++l) {
      s.cache.k[l][r].slice(1, w - e.kept, w).copy_(e.k[l]);
      s.cache.v[l][r].slice(1, w - e.kept, w).copy_(e.v[l]);
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
    const auto& c = entries_.at(e).clean;
    auto it = c.find(site);
    if (it == c.end()) throw_runtime(str("PrefixCache: site '", site_name(site), "' was not captured"));
    rows.push_back(it->second);
  }
  return torch::stack(rows);  // [B, L, U]
}

}  // namespace sadi
