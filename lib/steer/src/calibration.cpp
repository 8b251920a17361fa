#include "sadi/steer/calibration.hpp"

#include <numeric>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/prefix_cache.hpp"

namespace sadi {

Calibration calibrate(Model& model, const Tokenizer& tok, const std::vector<std::string>& prompts, Site site,
                      int64_t batch_size, const std::string& origin, int64_t cache_bytes) {
  if (prompts.empty()) throw_input(str(origin, ": no calibration prompts"));
  if (batch_size <= 0) throw_field(ErrorKind::kUsage, "batch_size", str(": expected a positive integer, found ", batch_size));
  const ModelInfo& info = model.info();
  std::vector<std::vector<int64_t>> ids;
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < prompts.size(); ++i) {
    ids.push_back(tok.encode(prompts[i], info.tokenizer.add_bos));
    if (static_cast<int64_t>(ids.back().size()) > info.max_positions) {
      throw_input(str(origin, ": calibration prompt ", i + 1, " has ", ids.back().size(),
                      " tokens, more than the model's maximum of ", info.max_positions));
    }
    lengths.push_back(static_cast<int64_t>(ids.back().size()));
  }
  std::vector<torch::Tensor> rows;  // each [L, U] float32 CPU
  c10::InferenceMode inference;
  PrefixCache cache(model, {site});
  const auto chunk = PrefixCache::chunks(lengths, PrefixCache::bytes_per_token(info, model.dtype()), cache_bytes);
  for (size_t first = 0; first < ids.size();) {
    size_t last = first + 1;
    while (last < ids.size() && chunk[last] == chunk[first]) ++last;
    cache.fill(std::vector<std::vector<int64_t>>(ids.begin() + static_cast<long>(first), ids.begin() + static_cast<long>(last)),
               batch_size);
    std::vector<size_t> entries(last - first);
    std::iota(entries.begin(), entries.end(), size_t{0});
    auto got = cache.clean(site, entries).to(torch::kCPU, torch::kFloat32);  // [n, L, U]
    for (int64_t r = 0; r < got.size(0); ++r) rows.push_back(got[r]);
    first = last;
  }
  return {site, torch::stack(rows), origin};
}

}  // namespace sadi
