#pragma once
// Prompt prefixes computed once and handed to many rows through the KV cache: every grid point,
// choice and answer of an eval item, identify's positive and negative sequence, generate-em's
// configurations. A prompt is run unsteered; its K/V for every token but the last is kept (the
// last prompt token is where steering starts, so each row runs it itself), and optionally the
// values of some sites at the last token (clamp's clean values). Leading blocks that prompts
// share are run once. docs/eval.md, "Prefix sharing".
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
  // Prompts are run in blocks (the last block of a prompt: what is left), each on the K/V of the
  // blocks before it; a block whose tokens and predecessors two prompts share (a task's template:
  // system prompt, instruction, few-shot examples) is run once for both. Blocks are kBlockTokens
  // long up to kFineTokens, then double (256-512, 512-1024, ...), so the predecessors' K/V copied
  // into each block's cache stay a few prompt lengths in all, not a quadratic number of tokens.
  // Where a prompt is cut depends on the prompt alone, so its numbers do not depend on the other
  // prompts of a fill (batch-invariant mode: bit for bit). docs/eval.md, "Prefix sharing".
  static constexpr int64_t kBlockTokens = 16;
  static constexpr int64_t kFineTokens = 256;
  // Where the block that starts at `begin` ends (before the prompt's end cuts it).
  static int64_t block_end(int64_t begin) { return begin < kFineTokens ? begin + kBlockTokens : 2 * begin; }

  // capture: sites whose values at each prompt's last token are kept (see clean()).
  explicit PrefixCache(Model& model, std::vector<Site> capture = {});

  // Runs `prompts` (each a whole prompt's ids, at least one token) unsteered, block by block:
  // up to batch_size distinct blocks of one depth per forward (a batch-invariant model: blocks of
  // one length per forward). Replaces what was held. Entry i is prompts[i].
  void fill(const std::vector<std::vector<int64_t>>& prompts, int64_t batch_size);

  size_t size() const { return entries_.size(); }
  int64_t kept(size_t entry) const { return entries_.at(entry).kept; }  // prompt length - 1
  // Tokens the last fill ran (shared blocks once): at most the prompts' total length.
  int64_t tokens_run() const { return tokens_run_; }

  // A cache for rows whose prompts are entries[r]: capacity W + extra. first_layer > 0: only the
  // layers from it on are filled (KvCache's first_layer: for Model::forward_from).
  PrefixStart start(const std::vector<size_t>& entries, int64_t extra, int64_t first_layer = 0) const;

  bool captures(Site site) const;
  // The captured site's values at the last prompt token of entries[r]: [B, L, U] model dtype.
  torch::Tensor clean(Site site, const std::vector<size_t>& entries) const;

  // Bytes a kept token takes (K and V of every layer): for sizing how many prompts to hold.
  static int64_t bytes_per_token(const ModelInfo& info, torch::ScalarType dtype);
  // Consecutive chunks of prompts (given by their token counts, in run order) whose K/V fit in
  // `budget` bytes, at least one prompt each: returns each prompt's chunk (0, 0, 1, ...).
  static std::vector<int64_t> chunks(const std::vector<int64_t>& tokens, int64_t bytes_per_token, int64_t budget);

 private:
  struct Block {
    int64_t parent = -1;                    // the block before it, -1 for a prompt's first
    int64_t begin = 0;                      // its first token's position in the prompt
    std::vector<int64_t> ids;               // its tokens
    bool ends_prompt = false;               // some prompt's last block: clean values are kept
    std::vector<torch::Tensor> k, v;        // L x [Hkv, len, Dh] on the device
    std::map<Site, torch::Tensor> clean;   // site -> [L, U], at its last token (ends_prompt only)
  };
  struct Entry {
    int64_t kept = 0;
    std::vector<size_t> blocks;  // the prompt's blocks in order
  };
  void run_blocks(const std::vector<size_t>& which);
  std::vector<size_t> chain(size_t block) const;  // the block's predecessors, first to last

  Model& model_;
  std::vector<Site> capture_;
  std::vector<Block> blocks_;
  std::vector<Entry> entries_;
  int64_t tokens_run_ = 0;
};

}  // namespace sadi
