#include "sadi/model/model_check.hpp"

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/batch.hpp"

namespace sadi {
namespace {

// A zero edit of every layer of `site` at the last position: [1, U] zeros.
Steering zero_steering(const ModelInfo& info, Site site, int64_t width, torch::Device device, torch::ScalarType dtype) {
  Steering st;
  SiteEdit& e = st.sites[site];
  e.at = torch::zeros({1, width}, torch::kBool);  // [1, T]
  e.at[0][width - 1] = true;
  const auto zeros = torch::zeros({1, info.site(site).units}, torch::TensorOptions().dtype(dtype).device(device));
  for (int64_t l = 0; l < info.n_layers; ++l) e.layers[l].scale = zeros;
  return st;
}

}  // namespace

void check_model_consistency(Model& model, const std::vector<int64_t>& ids) {
  const ModelInfo& info = model.info();
  const std::string path = (info.dir / info.model_file).string();
  auto batch = left_pad({ids}, 0, torch::kCPU);
  auto last = torch::full({1, 1}, batch.width - 1, torch::kInt64);  // [1, 1]
  ForwardInput in{batch.input_ids, batch.positions, batch.key_mask, 0, last, nullptr, {}};
  for (const auto& s : info.sites) in.capture[s.site] = last;
  const torch::Tensor plain = model.forward(in, nullptr).logits;  // [1, 1, V]; shapes checked by forward
  for (const auto& s : info.sites) {
    const Steering st = zero_steering(info, s.site, batch.width, model.device(), model.dtype());
    ForwardInput steered{batch.input_ids, batch.positions, batch.key_mask, 0, last, &st, {}};
    torch::Tensor logits;
    try {
      logits = model.forward(steered, nullptr).logits;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kRuntime) throw;
      throw_input(str(path, ": steering the '", site_name(s.site), "' site with manifest.json's ", s.units,
                      " units per layer fails (manifest.json's dims disagree with model.ts?): ", e.what()));
    }
    if (!torch::equal(logits, plain)) {
      throw_input(str(path, ": a zero edit of the '", site_name(s.site), "' site changes the logits (max |diff| ",
                      (logits - plain).abs().max().item<double>(), "): model.ts does not apply steering as its "
                      "manifest.json describes; re-export the model"));
    }
  }
}

}  // namespace sadi
