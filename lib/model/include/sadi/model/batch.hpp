#pragma once
// Left-padded batches: every row ends at the last column, so "last token" is column T-1 for
// all rows and decoding appends at one shared cache slot.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <torch/script.h>

namespace sadi {

struct PaddedBatch {
  torch::Tensor input_ids;  // [B, T] int64, pad_id in the left padding
  torch::Tensor positions;  // [B, T] int64, 0 at each row's first real token
  torch::Tensor key_mask;   // [B, T] bool, true on real tokens
  std::vector<int64_t> lengths;  // real tokens per row
  int64_t width = 0;             // T
  // Column of row b's i-th real token.
  int64_t column(size_t b, int64_t i) const { return width - lengths[b] + i; }
};

// Builds a left-padded batch on `device`. Throws sadi::Error (input) for an empty row.
PaddedBatch left_pad(const std::vector<std::vector<int64_t>>& rows, int64_t pad_id, torch::Device device);

// Rows that continue a prompt whose K/V are already cached (PrefixCache): row i runs
// (*rows[i])[from[i], end), right-padded with id 0 (a row's tokens never attend to the padding
// after them). CPU tensors.
struct ContinuedBatch {
  torch::Tensor input_ids;  // [B, T] int64
  torch::Tensor positions;  // [B, T] int64: from[i] + k; the padding repeats the row's last position
  torch::Tensor real;       // [B, T] bool, true on each row's tokens
  std::vector<int64_t> lengths;  // tokens each row runs
  int64_t width = 0;             // T
};
// Throws sadi::Error (input) for a row with no token at or after from[i].
ContinuedBatch right_pad_from(const std::vector<const std::vector<int64_t>*>& rows, const std::vector<int64_t>& from);

// The one row grouping: batches of row indices for forward passes. by_key: rows of one key per
// batch (keys ascending, rows in input order within a key), so that a batch-invariant model sees
// no padding (the key is the row's length, or whatever else makes rows the same shape); else all
// rows in input order. Each batch holds at most `max_rows` rows (0: no limit).
std::vector<std::vector<size_t>> group_rows(const std::vector<int64_t>& keys, bool by_key, size_t max_rows = 0);

}  // namespace sadi
