// sadi merge: the shards of one `sadi eval --shard I/N` run back into one result.
// Shard I (1-based) holds the items at positions p of each split with p % N == I - 1, in order,
// so its k-th item is position k * N + I - 1. Each shard is read with the results codec
// (decode_result); this file only checks that they belong together and interleaves them.
#include <algorithm>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/eval/checkpoint.hpp"
#include "sadi/eval/results.hpp"

namespace sadi {
namespace {

Json without(Json j, std::initializer_list<const char*> keys) {
  if (!j.is_object()) return j;
  for (const char* k : keys) j.erase(k);
  return j;
}

struct ShardInfo {
  size_t index = 0, count = 0, n_test = 0, n_dev = 0;  // index 0-based
};

ShardInfo shard_info(const ShardResult& s) {
  const JsonView r(s.json, s.path);
  if (!r.has("shard")) r.fail("shard", "the results of a sharded sadi eval run (shard I/N)");
  const JsonView sh = r.object("shard");
  return {static_cast<size_t>(sh.positive("index") - 1), static_cast<size_t>(sh.positive("count")),
          static_cast<size_t>(sh.integer("n_test")), static_cast<size_t>(sh.integer("n_dev"))};
}

// Puts shard `index` (0-based) of `count` into `full` (already sized to the split's total).
template <typename T>
void scatter(const std::vector<T>& part, size_t index, size_t count, std::vector<T>& full, const JsonView& where,
             const std::string& key) {
  const size_t expected = full.size() > index ? (full.size() - index + count - 1) / count : 0;
  if (part.size() != expected) {
    where.fail(key, str(expected, " entries (shard ", index + 1, " of ", count, " of ", full.size(), " items), found ",
                        part.size()));
  }
  for (size_t k = 0; k < part.size(); ++k) full[k * count + index] = part[k];
}

void size_split(PointScore& s, size_t n, Metric metric) {
  s.seconds = -1;  // stays so unless the shards were timed (--timing)
  s.correct.assign(n, 0);
  if (metric == Metric::kChoice) {
    s.correct_norm.assign(n, 0);
    s.loglik.assign(n, {});
  }
  if (metric == Metric::kGenerateEm) s.predictions.assign(n, "");
}

void merge_split(const PointScore& part, const JsonView& where, size_t index, size_t count, PointScore& into) {
  scatter(part.correct, index, count, into.correct, where, "correct");
  if (!into.correct_norm.empty()) scatter(part.correct_norm, index, count, into.correct_norm, where, "correct_length_normalised");
  if (!into.predictions.empty()) scatter(part.predictions, index, count, into.predictions, where, "predictions");
  if (!into.loglik.empty()) scatter(part.loglik, index, count, into.loglik, where, "loglik");
  if (part.seconds >= 0) into.seconds = std::max(0.0, into.seconds) + part.seconds;
}

// Checks that `shard` belongs to the run of `first`: every key of kRunIdentityKeys agrees (paths
// may differ, shards run on different machines: the model is compared by fingerprint, files by
// hash, splits without their shard's sizes), and so does every grid point.
void check_same_run(const ShardResult& shard, const EvalResult& part, const ShardResult& first, const EvalResult& run) {
  const JsonView r(shard.json, shard.path);
  for (const char* k : kRunIdentityKeys) {
    if (run_identity(part.header, k) != run_identity(run.header, k)) {
      r.fail(k, str("the same value as in ", first.path, " (shards of one run; files compared by hash, the model by "
                    "fingerprint)"));
    }
  }
  if (part.points.size() != run.points.size()) r.fail("points", str(run.points.size(), " points like ", first.path));
  for (size_t p = 0; p < part.points.size(); ++p) {
    if (!(part.points[p].point == run.points[p].point)) {
      JsonView(shard.json.at("points")[p], shard.path, str("points[", p, "]"))
          .fail("method", str("the same grid point as ", first.path));
    }
  }
}

}  // namespace

EvalResult merge_shards(const std::vector<ShardResult>& shards) {
  if (shards.empty()) throw_usage("sadi merge: no shard files given");
  for (const auto& s : shards) {
    if (is_partial_result(s.json)) {
      throw_input(str(s.path, ": key 'partial': expected a finished shard, found a partial result of an interrupted "
                      "run (finish it by resuming the same sadi eval command)"));
    }
  }
  const ShardInfo info0 = shard_info(shards[0]);
  const EvalResult run = decode_result(shards[0].json, shards[0].path);
  if (shards.size() != info0.count) {
    throw_input(str(shards[0].path, ": key 'shard.count': the run has ", info0.count, " shards, ", shards.size(), " given"));
  }
  EvalResult merged;
  merged.metric = run.metric;
  merged.seed = run.seed;
  merged.has_dev = info0.n_dev > 0;
  for (const auto& p : run.points) {
    ScoredPoint s;
    s.point = p.point;
    size_split(s.test, info0.n_test, run.metric);
    if (merged.has_dev) size_split(s.dev, info0.n_dev, run.metric);
    merged.points.push_back(std::move(s));
  }
  std::vector<int> seen(info0.count, 0);
  for (const auto& shard : shards) {
    const ShardInfo info = shard_info(shard);
    const JsonView sh = JsonView(shard.json, shard.path).object("shard");
    if (info.count != info0.count || info.index >= info0.count) sh.fail("count", str("shard I/", info0.count, " like ", shards[0].path));
    if (seen[info.index]++) sh.fail("index", str("each shard once; shard ", info.index + 1, " given twice"));
    if (info.n_test != info0.n_test || info.n_dev != info0.n_dev) sh.fail("n_test", str("the same split sizes as ", shards[0].path));
    const EvalResult part = decode_result(shard.json, shard.path);
    check_same_run(shard, part, shards[0], run);
    for (size_t p = 0; p < part.points.size(); ++p) {
      const JsonView where(shard.json.at("points")[p], shard.path, str("points[", p, "]"));
      merge_split(part.points[p].test, where.object("test"), info.index, info.count, merged.points[p].test);
      if (merged.has_dev) merge_split(part.points[p].dev, where.object("dev"), info.index, info.count, merged.points[p].dev);
    }
  }
  merged.header = without(run.header, {"shard"});
  merged.header["task"]["n_test"] = info0.n_test;
  if (merged.has_dev) merged.header["dev"]["n"] = info0.n_dev;
  Json from = Json::array();
  for (const auto& s : shards) from.push_back(s.path);
  merged.header["merged_from"] = from;
  return merged;
}

}  // namespace sadi
