#pragma once
// A Model without weights for the unit tier: a made-up ModelInfo (L layers, H heads of Dh,
// d model, F FFN), logits that are a known function of the input, captures whose values are a
// known function of (row, position, layer, unit), and a record of every call's steering.
#include <vector>

#include "sadi/model/model.hpp"

namespace sadi::test {

inline ModelInfo fake_info(int64_t layers = 3, int64_t heads = 2, int64_t head_dim = 4, int64_t d = 8, int64_t ffn = 6) {
  ModelInfo m;
  m.format_version = kFormatVersion;
  m.architecture = "llama";
  m.n_layers = layers;
  m.n_heads = m.n_kv_heads = heads;
  m.head_dim = head_dim;
  m.d_model = d;
  m.d_ffn = ffn;
  m.vocab_size = 11;
  m.max_positions = 64;
  m.fingerprint = "sha256:fake";
  m.sites = {{Site::kHead, {layers, heads, head_dim}, heads * head_dim, heads, head_dim, ""},
             {Site::kNeuron, {layers, ffn}, ffn, ffn, 1, ""},
             {Site::kHidden, {layers, d}, d, d, 1, ""},
             {Site::kResidual, {layers, d}, d, d, 1, ""}};
  return m;
}

// One recorded call: the steering dictionary as the module would receive it (key -> tensor).
struct FakeCall {
  std::map<std::string, torch::Tensor> steer;
  std::map<Site, torch::Tensor> capture;
  int64_t start = 0;
  bool cached = false;
};

class FakeModel final : public Model {
 public:
  explicit FakeModel(ModelInfo info = fake_info()) : info_(std::move(info)) {}
  const ModelInfo& info() const override { return info_; }
  torch::Device device() const override { return torch::kCPU; }
  torch::ScalarType dtype() const override { return torch::kFloat32; }
  bool batch_invariant() const override { return true; }

  // Captured value of (row b, position t, layer l, unit u): 1000 b + 100 t + 10 l + u / 100.
  static float value(int64_t b, int64_t t, int64_t l, int64_t u) {
    return static_cast<float>(1000 * b + 100 * t + 10 * l) + static_cast<float>(u) / 100.0f;
  }

  ForwardOutput forward(const ForwardInput& in, KvCache* cache) override {
    FakeCall call;
    call.start = in.start;
    call.cached = cache != nullptr;
    if (in.steering) {
      for (const auto& [site, edit] : in.steering->sites) {
        const std::string name = site_name(site);
        call.steer[name + ".at"] = edit.at;
        for (const auto& [l, le] : edit.layers) {
          const std::string key = name + "." + std::to_string(l) + ".";
          if (le.scale.defined()) call.steer[key + "scale"] = le.scale;
          if (le.add.defined()) call.steer[key + "add"] = le.add;
          if (le.base.defined()) call.steer[key + "base"] = le.base;
          if (le.base_rows.defined()) call.steer[key + "base_rows"] = le.base_rows;
        }
      }
    }
    call.capture = in.capture;
    calls.push_back(call);
    const int64_t b = in.input_ids.size(0);
    ForwardOutput out;
    // logits[b, n, v] = the input id at that position + v (so argmax is the last id).
    out.logits = torch::zeros({b, in.logits_at.size(1), info_.vocab_size});
    for (const auto& [site, pos] : in.capture) {
      const int64_t units = info_.site(site).units;
      auto t = torch::zeros({b, pos.size(1), info_.n_layers, units});  // [B, C, L, U]
      for (int64_t i = 0; i < b; ++i) {
        for (int64_t c = 0; c < pos.size(1); ++c) {
          for (int64_t l = 0; l < info_.n_layers; ++l) {
            for (int64_t u = 0; u < units; ++u) t[i][c][l][u] = value(i, pos[i][c].item<int64_t>(), l, u);
          }
        }
      }
      out.captured[site] = t;
    }
    return out;
  }

  std::vector<FakeCall> calls;

 private:
  ModelInfo info_;
};

}  // namespace sadi::test
