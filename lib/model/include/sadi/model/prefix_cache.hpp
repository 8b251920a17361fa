#pragma once
// Prompt prefixes computed once and handed to many rows through the KV cache: every grid point,
// choice and answer of an eval item, identify's positive and negative sequence, generate-em's
// configurations. A prompt is run unsteered; its K/V for every token but the last is kept (the
// last prompt token is where steering starts, so each row runs it itself), and optionally the
// values of some sites at the last token (clamp's clean values). docs/eval.md, "Prefix sharing".
//
// Shapes: L layers, Hkv key/value heads, P kept tokens (prompt length - 1), Dh head dim,
// B rows, W the widest kept prefix of a start, U units of a site.
#include <cstdint>
#include <map>
#include <vector>

#include "sadi/model/model.hpp"

namespace sadi {

// The distinct prompts of rows (row r's prompt: the first n[r] ids of *rows[r]), in order of
// first appearance; entry[r] becomes the index of row r's prompt. What a PrefixCache is filled with.
std::vector<std::vector<int64_t>> distinct_prompts(const std::vector<const std::vector<int64_t>*>& rows,
                                                   const std::vector<int64_t>& n, std::vector<size_t>& entry);

// The KV cache rows start from: row r's prefix in slots [W - P_r, W), slots from W on free.
struct PrefixStart {
  KvCache cache;          // B rows, capacity W + extra
  torch::Tensor key_mask;  // [B, W] bool, true on each row's prefix slots
  int64_t width = 0;       // W: the first slot a row's own tokens go to
};

class PrefixCache {
 public:
  // capture: sites whose values at each prompt's last token are kept (see clean()).
  explicit PrefixCache(Model& model, std::vector<Site> capture = {});

  // Runs `prompts` (each a whole prompt's ids, at least one token) unsteered, batch_size prompts
  // per forward (a batch-invariant model: prompts of one length per forward, so a prompt's numbers
  // do not depend on the others); replaces what was held. Entry i is prompts[i].
  void fill(const std::vector<std::vector<int64_t>>& prompts, int64_t batch_size);

  size_t size() const { return entries_.size(); }
  int64_t kept(size_t entry) const { return entries_.at(entry).kept; }  // prompt length - 1

  // A cache for rows whose prompts are entries[r]: capacity W + extra. first_layer > 0: only the
  // layers from it on are filled (KvCache's first_layer: for Model::forward_from).
  PrefixStart start(const std::vector<size_t>& entries, int64_t extra, int64_t first_layer = 0) const;

  bool captures(Site site) const;
  // The captured site's values at the last prompt token of entries[r]: [B, L, U] model dtype.
  torch::Tensor clean(Site site, const std::vector<size_t>& entries) const;

  // Bytes a kept token takes (K and V of every layer): for sizing how many prompts to hold.
  static int64_t bytes_per_token(const ModelInfo& info, torch::ScalarType dtype);

 private:
  struct Entry {
    int64_t kept = 0;
    std::vector<torch::Tensor> k, v;       // L x [Hkv, P, Dh] on the device
    std::map<Site, torch::Tensor> clean;  // site -> [L, U]
  };
  void run_batch(const std::vector<std::vector<int64_t>>& prompts, const std::vector<size_t>& which);

  Model& model_;
  std::vector<Site> capture_;
  std::vector<Entry> entries_;
};

}  // namespace sadi
