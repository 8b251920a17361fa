#include "sadi/model/batch.hpp"

#include <algorithm>
#include <map>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

PaddedBatch left_pad(const std::vector<std::vector<int64_t>>& rows, int64_t pad_id, torch::Device device) {
  if (rows.empty()) throw_input("left_pad: empty batch");
  PaddedBatch b;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].empty()) throw_input(str("left_pad: row ", i, " has no tokens"));
    b.lengths.push_back(static_cast<int64_t>(rows[i].size()));
    b.width = std::max(b.width, b.lengths.back());
  }
  const auto n = static_cast<int64_t>(rows.size());
  auto ids = torch::full({n, b.width}, pad_id, torch::kInt64);      // [B, T]
  auto pos = torch::zeros({n, b.width}, torch::kInt64);              // [B, T]
  auto mask = torch::zeros({n, b.width}, torch::kBool);              // [B, T]
  auto ids_a = ids.accessor<int64_t, 2>();
  auto pos_a = pos.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<bool, 2>();
  for (int64_t r = 0; r < n; ++r) {
    const auto& row = rows[static_cast<size_t>(r)];
    const int64_t off = b.width - static_cast<int64_t>(row.size());
    for (size_t i = 0; i < row.size(); ++i) {
      ids_a[r][off + static_cast<int64_t>(i)] = row[i];
      pos_a[r][off + static_cast<int64_t>(i)] = static_cast<int64_t>(i);
      mask_a[r][off + static_cast<int64_t>(i)] = true;
    }
  }
  b.input_ids = ids.to(device);
  b.positions = pos.to(device);
  b.key_mask = mask.to(device);
  return b;
}

ContinuedBatch right_pad_from(const std::vector<const std::vector<int64_t>*>& rows, const std::vector<int64_t>& from) {
  if (rows.empty() || rows.size() != from.size()) throw_input("right_pad_from: empty batch or mismatched starts");
  ContinuedBatch c;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t n = static_cast<int64_t>(rows[i]->size()) - from[i];
    if (from[i] < 0 || n <= 0) throw_input(str("right_pad_from: row ", i, " has no token from ", from[i]));
    c.lengths.push_back(n);
    c.width = std::max(c.width, n);
  }
  const auto b = static_cast<int64_t>(rows.size());
  c.input_ids = torch::zeros({b, c.width}, torch::kInt64);
  c.positions = torch::zeros({b, c.width}, torch::kInt64);
  c.real = torch::zeros({b, c.width}, torch::kBool);
  auto ids = c.input_ids.accessor<int64_t, 2>();
  auto pos = c.positions.accessor<int64_t, 2>();
  auto real = c.real.accessor<bool, 2>();
  for (int64_t i = 0; i < b; ++i) {
    const auto& row = *rows[static_cast<size_t>(i)];
    const int64_t f = from[static_cast<size_t>(i)], n = c.lengths[static_cast<size_t>(i)];
    for (int64_t k = 0; k < c.width; ++k) {
      if (k < n) ids[i][k] = row[static_cast<size_t>(f + k)];
      pos[i][k] = f + std::min(k, n - 1);
      real[i][k] = k < n;
    }
  }
  return c;
}

std::vector<std::vector<size_t>> group_rows(const std::vector<int64_t>& keys, bool by_key, size_t max_rows) {
  std::map<int64_t, std::vector<size_t>> groups;  // key -> rows, keys ascending
  for (size_t r = 0; r < keys.size(); ++r) groups[by_key ? keys[r] : 0].push_back(r);
  std::vector<std::vector<size_t>> out;
  for (const auto& [key, rows] : groups) {
    const size_t step = max_rows > 0 ? max_rows : rows.size();
    for (size_t start = 0; start < rows.size(); start += step) {
      out.emplace_back(rows.begin() + static_cast<long>(start), rows.begin() + static_cast<long>(std::min(rows.size(), start + step)));
    }
  }
  return out;
}

}  // namespace sadi
