#pragma once
// The one steered forward: the only code that fills the model's steering inputs. Rows of a
// batch may carry different interventions (a whole K x delta grid shares batches); the edit
// formula A' = A + A*scale + add itself lives in the exported module (modeling.py, Site).
//
// Shapes: B rows, T tokens of a call, L layers, U units of a site.
#include <map>
#include <optional>
#include <vector>

#include "sadi/model/model.hpp"
#include "sadi/steer/intervention.hpp"

namespace sadi {

class BatchSteering {
 public:
  // rows[i]: row i's intervention (null or method none: unsteered). Rows may differ in site,
  // mode and positions. Stacks each site's per-row tensors once, on the model's device.
  BatchSteering(const std::vector<const Intervention*>& rows, const Model& model);

  bool steers() const { return !sites_.empty(); }  // some row takes part (even with delta 0)

  // Where each row is steered in a call over a left-padded prompt (+ answer) batch: key_mask
  // [B, T] bool (real tokens), prompt_last[i] the column of row i's last prompt token. Each
  // row follows its intervention's positions (prompt-last, from-prompt-last: that column and
  // every later one, prompt-all, all); unsteered rows nowhere. -> [B, T] bool
  torch::Tensor at(const torch::Tensor& key_mask, const std::vector<int64_t>& prompt_last) const;
  // Rows steered on every generated token (from-prompt-last, all): [B, 1] bool.
  torch::Tensor decode_at() const { return decode_rows_.unsqueeze(1); }
  bool steers_decode() const { return decode_any_; }
  // The steering of a decode step (decode_at()) with its tensors on `device`, the same for every
  // step: built once per generation. nullopt when a row steered on generated tokens is in clamp
  // mode (forward() then runs its clean pass each step).
  std::optional<Steering> decode_steering(torch::Device device) const;

  // Runs `in` (in.steering must be null) with each row's edit at `at` [B, T] bool.
  // Clamp: first an unsteered pass without the cache reads every steered site at `clean_col`
  // [B, 1] int64 (the last prompt token), then each clamp row's whole site is overwritten at
  // `at` in every layer with its edited clean values (live rows edit as the forward runs). Rows
  // without an edit stay bit-identical to an unsteered forward.
  ForwardOutput forward(Model& model, const ForwardInput& in, KvCache* cache, const torch::Tensor& at,
                        const torch::Tensor& clean_col = {}) const;
  // As forward, with clamp's clean values given (site -> [B, L, U], the unsteered values at each
  // row's last prompt token, e.g. from PrefixCache::clean) instead of a clean pass: for calls that
  // start after a prompt prefix already in the cache.
  ForwardOutput forward_with_clean(Model& model, const ForwardInput& in, KvCache* cache, const torch::Tensor& at,
                                   const std::map<Site, torch::Tensor>& clean) const;
  // As forward_with_clean for a batch without clamp rows, from layer `first` on
  // (Model::forward_from): hidden [B, T, d] the unsteered residual stream entering it. Every
  // row's edits must lie in layers >= first. -> logits [B, N, V] float32
  torch::Tensor forward_from(Model& model, const ForwardInput& in, KvCache* cache, const torch::Tensor& at, int64_t first,
                             const torch::Tensor& hidden) const;
  // Sites some row steers (each needs clean values in clamp mode).
  std::vector<Site> sites() const;
  // Whether some row is steered before its last prompt token (prompt-all, all): such rows cannot
  // start from an unsteered prompt prefix.
  bool steers_prompt_body() const { return body_any_; }

 private:
  struct SiteRows {
    torch::Tensor rows;          // [B] bool (CPU): rows whose intervention is at this site
    torch::Tensor scale, add;    // [B, L, U] model dtype, device; zeros for other rows; or undefined
    std::vector<int64_t> layers; // layers some row edits (sorted)
  };
  Steering live(const torch::Tensor& at) const;
  Steering clamp(const std::map<Site, torch::Tensor>& clean, const torch::Tensor& at) const;
  bool clamps(const torch::Tensor& at) const;  // some clamp row is steered somewhere in `at`
  ForwardOutput run(Model& model, const ForwardInput& in, KvCache* cache, const Steering& steering) const;

  int64_t n_layers_ = 0;
  std::vector<Positions> positions_;  // per row (unsteered rows: unused)
  std::vector<bool> steered_;         // per row: takes part
  torch::Tensor clamp_rows_;          // [B] bool: rows in clamp mode
  torch::Tensor decode_rows_;         // [B] bool: rows steered on generated tokens
  bool any_clamp_ = false, decode_any_ = false, body_any_ = false;
  std::map<Site, SiteRows> sites_;
};

// One call: BatchSteering(rows, model).forward(model, in, cache, at, clean_col).
ForwardOutput steered_forward(Model& model, const ForwardInput& in, KvCache* cache,
                              const std::vector<const Intervention*>& rows, const torch::Tensor& at,
                              const torch::Tensor& clean_col = {});

}  // namespace sadi
