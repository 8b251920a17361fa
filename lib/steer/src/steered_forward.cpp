#include "sadi/steer/steered_forward.hpp"

#include <set>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {
namespace {

// Stacks row tensors [L, U] into [B, L, U]; rows without one get zeros.
torch::Tensor stack_rows(const std::vector<const torch::Tensor*>& per_row, const torch::Tensor& like) {
  auto zeros = torch::zeros_like(like);
  std::vector<torch::Tensor> parts;
  for (const auto* t : per_row) parts.push_back(t ? *t : zeros);
  return torch::stack(parts);
}

}  // namespace

BatchSteering::BatchSteering(const std::vector<const Intervention*>& rows, const Model& model)
    : n_layers_(model.info().n_layers) {
  const auto b = static_cast<int64_t>(rows.size());
  std::map<Site, std::set<int64_t>> layers;
  positions_.assign(rows.size(), Positions::kPromptLast);
  steered_.assign(rows.size(), false);
  clamp_rows_ = torch::zeros({b}, torch::kBool);
  decode_rows_ = torch::zeros({b}, torch::kBool);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Intervention* r = rows[i];
    if (!r || !r->steers()) continue;
    steered_[i] = true;
    positions_[i] = r->positions;
    if (r->mode == Mode::kClamp) {
      clamp_rows_[static_cast<int64_t>(i)] = true;
      any_clamp_ = true;
    }
    if (r->positions == Positions::kPromptAll || r->positions == Positions::kAll) body_any_ = true;
    if (steers_after_prompt(r->positions) && !r->layers.empty()) {
      decode_rows_[static_cast<int64_t>(i)] = true;
      decode_any_ = true;
    }
    SiteRows& s = sites_[r->site];
    if (!s.rows.defined()) s.rows = torch::zeros({b}, torch::kBool);
    layers[r->site].insert(r->layers.begin(), r->layers.end());
  }
  for (auto& [site, s] : sites_) {
    s.layers.assign(layers[site].begin(), layers[site].end());
    std::vector<const torch::Tensor*> scale(rows.size(), nullptr), add(rows.size(), nullptr);
    const torch::Tensor *scale_like = nullptr, *add_like = nullptr;
    for (size_t i = 0; i < rows.size(); ++i) {
      const Intervention* r = rows[i];
      if (!r || !r->steers() || r->site != site) continue;
      s.rows[static_cast<int64_t>(i)] = true;
      if (r->scale.defined()) scale[i] = scale_like = &r->scale;
      if (r->add.defined()) add[i] = add_like = &r->add;
    }
    if (scale_like) s.scale = stack_rows(scale, *scale_like);  // [B, L, U]
    if (add_like) s.add = stack_rows(add, *add_like);          // [B, L, U]
  }
}

torch::Tensor BatchSteering::at(const torch::Tensor& key_mask, const std::vector<int64_t>& prompt_last) const {
  const int64_t b = key_mask.size(0), t = key_mask.size(1);
  auto out = torch::zeros({b, t}, torch::kBool);  // [B, T]
  auto cols = torch::arange(t, torch::kInt64);
  for (int64_t i = 0; i < b; ++i) {
    if (!steered_[static_cast<size_t>(i)]) continue;
    const int64_t last = prompt_last[static_cast<size_t>(i)];
    auto real = key_mask[i].to(torch::kCPU);
    switch (positions_[static_cast<size_t>(i)]) {
      case Positions::kPromptLast: out[i][last] = true; break;
      case Positions::kFromPromptLast: out[i] = real.logical_and(cols.ge(last)); break;
      case Positions::kPromptAll: out[i] = real.logical_and(cols.le(last)); break;
      case Positions::kAll: out[i] = real; break;
    }
  }
  return out;
}

Steering BatchSteering::live(const torch::Tensor& at) const {
  Steering out;
  for (const auto& [site, s] : sites_) {
    if (s.layers.empty()) continue;  // every row of this site edits nothing (delta 0)
    SiteEdit& edit = out.sites[site];
    edit.at = at.logical_and(s.rows.unsqueeze(1));  // [B, T]
    for (int64_t l : s.layers) {
      LayerEdit le;
      if (s.scale.defined()) le.scale = s.scale.select(1, l);  // [B, U]
      if (s.add.defined()) le.add = s.add.select(1, l);
      edit.layers[l] = le;
    }
  }
  return out;
}

Steering BatchSteering::clamp(const std::map<Site, torch::Tensor>& clean, const torch::Tensor& at) const {
  Steering out;
  for (const auto& [site, s] : sites_) {
    auto it = clean.find(site);
    if (it == clean.end()) throw_runtime(str("clamp: no clean values captured for site '", site_name(site), "'"));
    SiteEdit& edit = out.sites[site];
    edit.at = at.logical_and(s.rows.unsqueeze(1));  // [B, T]
    // Every layer is overwritten for the clamp rows: downstream layers at that position keep
    // their clean values and cannot react to upstream edits (the reference code's behaviour).
    // Live rows of the batch add their edit to the running value (zero in layers they skip).
    const auto base_rows = s.rows.logical_and(clamp_rows_);  // [B]
    for (int64_t l = 0; l < n_layers_; ++l) {
      LayerEdit le;
      le.base = it->second.select(1, l);  // [B, U]
      le.base_rows = base_rows;
      if (s.scale.defined()) le.scale = s.scale.select(1, l);
      if (s.add.defined()) le.add = s.add.select(1, l);
      edit.layers[l] = le;
    }
  }
  return out;
}

std::optional<Steering> BatchSteering::decode_steering(torch::Device device) const {
  const auto at = decode_at();  // [B, 1]
  if (clamps(at)) return std::nullopt;
  Steering s = live(at);
  for (auto& [site, edit] : s.sites) edit.at = edit.at.to(device);
  return s;
}

bool BatchSteering::clamps(const torch::Tensor& at) const {
  return any_clamp_ && clamp_rows_.logical_and(at.any(1).to(torch::kCPU)).any().item<bool>();
}

std::vector<Site> BatchSteering::sites() const {
  std::vector<Site> out;
  for (const auto& [site, s] : sites_) out.push_back(site);
  return out;
}

ForwardOutput BatchSteering::run(Model& model, const ForwardInput& in, KvCache* cache, const Steering& steering) const {
  if (steering.empty()) return model.forward(in, cache);
  ForwardInput steered = in;
  steered.steering = &steering;
  return model.forward(steered, cache);
}

ForwardOutput BatchSteering::forward(Model& model, const ForwardInput& in, KvCache* cache, const torch::Tensor& at,
                                     const torch::Tensor& clean_col) const {
  if (in.steering != nullptr) throw_runtime("BatchSteering::forward: the input already carries steering");
  if (!steers()) return model.forward(in, cache);
  if (!clamps(at)) return run(model, in, cache, live(at));
  if (!clean_col.defined()) throw_runtime("BatchSteering::forward: clamp mode needs the clean column");
  // Clean pass: the same tokens unsteered and without the cache (it must not write there).
  const int64_t b = in.input_ids.size(0);
  ForwardInput clean_in{in.input_ids, in.positions, in.key_mask, 0, in.input_ids.new_empty({b, 0}), nullptr, {}};
  for (const auto& [site, s] : sites_) clean_in.capture[site] = clean_col;
  std::map<Site, torch::Tensor> clean;
  for (const auto& [site, values] : model.forward(clean_in, nullptr).captured) clean[site] = values.select(1, 0);
  return run(model, in, cache, clamp(clean, at));  // site -> [B, L, U] above
}

ForwardOutput BatchSteering::forward_with_clean(Model& model, const ForwardInput& in, KvCache* cache,
                                                const torch::Tensor& at, const std::map<Site, torch::Tensor>& clean) const {
  if (in.steering != nullptr) throw_runtime("BatchSteering::forward: the input already carries steering");
  if (!steers()) return model.forward(in, cache);
  return run(model, in, cache, clamps(at) ? clamp(clean, at) : live(at));
}

torch::Tensor BatchSteering::forward_from(Model& model, const ForwardInput& in, KvCache* cache, const torch::Tensor& at,
                                          int64_t first, const torch::Tensor& hidden) const {
  if (in.steering != nullptr) throw_runtime("BatchSteering::forward_from: the input already carries steering");
  if (!steers()) return model.forward_from(in, cache, first, hidden);
  if (clamps(at)) throw_runtime("BatchSteering::forward_from: clamp rows run every layer");
  const Steering steering = live(at);
  ForwardInput steered = in;
  steered.steering = steering.empty() ? nullptr : &steering;
  return model.forward_from(steered, cache, first, hidden);
}

ForwardOutput steered_forward(Model& model, const ForwardInput& in, KvCache* cache,
                              const std::vector<const Intervention*>& rows, const torch::Tensor& at,
                              const torch::Tensor& clean_col) {
  return BatchSteering(rows, model).forward(model, in, cache, at, clean_col);
}

}  // namespace sadi
