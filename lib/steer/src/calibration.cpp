#include "sadi/steer/calibration.hpp"

#include <map>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

Calibration calibrate(Model& model, const Tokenizer& tok, const std::vector<std::string>& prompts, Site site,
                      int64_t batch_size, const std::string& origin) {
  if (prompts.empty()) throw_input(str(origin, ": no calibration prompts"));
  if (batch_size <= 0) throw_usage(str("calibration: expected a positive batch size, found ", batch_size));
  const ModelInfo& info = model.info();
  std::map<size_t, std::vector<size_t>> by_length;  // token length -> prompt indices
  std::vector<std::vector<int64_t>> ids;
  for (size_t i = 0; i < prompts.size(); ++i) {
    ids.push_back(tok.encode(prompts[i], info.tokenizer.add_bos));
    if (static_cast<int64_t>(ids.back().size()) > info.max_positions) {
      throw_input(str(origin, ": calibration prompt ", i + 1, " has ", ids.back().size(),
                      " tokens, more than the model's maximum of ", info.max_positions));
    }
    by_length[ids.back().size()].push_back(i);
  }
  std::vector<torch::Tensor> rows(prompts.size());  // each [L, U] float32 CPU
  c10::InferenceMode inference;
  for (const auto& [len, idx] : by_length) {
    for (size_t start = 0; start < idx.size(); start += static_cast<size_t>(batch_size)) {
      const size_t end = std::min(idx.size(), start + static_cast<size_t>(batch_size));
      const auto b = static_cast<int64_t>(end - start), t = static_cast<int64_t>(len);
      auto input = torch::empty({b, t}, torch::kInt64);  // [b, T]
      for (int64_t r = 0; r < b; ++r) {
        input[r] = torch::tensor(ids[idx[start + static_cast<size_t>(r)]], torch::kInt64);
      }
      auto pos = torch::arange(t, torch::kInt64).unsqueeze(0).expand({b, t}).contiguous();
      ForwardInput in{input, pos, torch::ones({b, t}, torch::kBool), 0, torch::empty({b, 0}, torch::kInt64), nullptr, {}};
      in.capture[site] = torch::full({b, 1}, t - 1, torch::kInt64);
      auto got = model.forward(in, nullptr).captured.at(site).select(1, 0).to(torch::kCPU, torch::kFloat32);  // [b, L, U]
      for (int64_t r = 0; r < b; ++r) rows[idx[start + static_cast<size_t>(r)]] = got[r];
    }
  }
  return {site, torch::stack(rows), origin};
}

}  // namespace sadi
