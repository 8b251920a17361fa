#include "sadi/steer/calibration.hpp"

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/batch.hpp"

namespace sadi {

Calibration calibrate(Model& model, const Tokenizer& tok, const std::vector<std::string>& prompts, Site site,
                      int64_t batch_size, const std::string& origin) {
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
  std::vector<torch::Tensor> rows(prompts.size());  // each [L, U] float32 CPU
  c10::InferenceMode inference;
  // One forward per batch of prompts of one token length (no padding).
  for (const auto& idx : group_rows(lengths, /*by_key=*/true, static_cast<size_t>(batch_size))) {
    const auto b = static_cast<int64_t>(idx.size()), t = lengths[idx[0]];
    auto input = torch::empty({b, t}, torch::kInt64);  // [b, T]
    for (int64_t r = 0; r < b; ++r) input[r] = torch::tensor(ids[idx[static_cast<size_t>(r)]], torch::kInt64);
    auto pos = torch::arange(t, torch::kInt64).unsqueeze(0).expand({b, t}).contiguous();
    ForwardInput in{input, pos, torch::ones({b, t}, torch::kBool), 0, torch::empty({b, 0}, torch::kInt64), nullptr, {}};
    in.capture[site] = torch::full({b, 1}, t - 1, torch::kInt64);
    auto got = model.forward(in, nullptr).captured.at(site).select(1, 0).to(torch::kCPU, torch::kFloat32);  // [b, L, U]
    for (int64_t r = 0; r < b; ++r) rows[idx[static_cast<size_t>(r)]] = got[r];
  }
  return {site, torch::stack(rows), origin};
}

}  // namespace sadi
