#pragma once
// Shard I of N (1-based) of a list: the entries at positions p with p % N == I - 1, in order, so
// the k-th entry of shard I is position k * N + I - 1 (sadi identify --shard, sadi eval --shard,
// and the merges that interleave them back: docs/cluster.md).
#include <cstdint>
#include <string>
#include <vector>

namespace sadi {

struct Shard {
  int64_t index = 1, count = 1;
  bool whole() const { return count <= 1; }
  bool holds(int64_t position) const { return position % count == index - 1; }
  std::string name() const;  // "I/N", as parsed and recorded
};

// "I/N" -> Shard; throws sadi::Error (usage) on field "shard" naming what was found.
Shard parse_shard(const std::string& s);

// The entries of `all` this shard holds, in order; position_of(entry) is the entry's position in
// the whole list (select_shard(all, shard): its index in `all`).
template <typename T, typename PositionOf>
std::vector<T> select_shard(std::vector<T> all, const Shard& shard, PositionOf position_of) {
  if (shard.whole()) return all;
  std::vector<T> out;
  for (auto& e : all) {
    if (shard.holds(position_of(e))) out.push_back(std::move(e));
  }
  return out;
}

template <typename T>
std::vector<T> select_shard(std::vector<T> all, const Shard& shard) {
  int64_t position = 0;
  return select_shard(std::move(all), shard, [&position](const T&) { return position++; });
}

}  // namespace sadi
