// sadi merge: the shards of one `sadi eval --shard I/N` run back into one result.
// Shard I (1-based) holds the items at positions p of each split with p % N == I - 1, in order,
// so its k-th item is position k * N + I - 1.
#include <algorithm>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/eval/checkpoint.hpp"
#include "sadi/eval/results.hpp"

namespace sadi {
namespace {

// Keys that must agree between shards. Paths may differ (shards run on different machines):
// the model is compared by fingerprint, files by hash, the dev split without its shard's "n".
const char* kSameKeys[] = {"metric", "mode", "site", "grid", "seed"};

Json without(Json j, std::initializer_list<const char*> keys) {
  if (!j.is_object()) return j;
  for (const char* k : keys) j.erase(k);
  return j;
}

// The part of `key` that identifies the run's inputs.
Json identity(const Json& results, const char* key) {
  const Json v = results.value(key, Json());
  return without(v, {"file", "dir", "n", "n_test"});
}

std::vector<uint8_t> flags(const JsonView& split, const std::string& key) {
  const Json& a = split.raw(key);
  if (!a.is_array()) split.fail(key, "a list of 0/1");
  std::vector<uint8_t> out;
  for (const auto& x : a) {
    if (!x.is_number_integer() || (x.get<int64_t>() != 0 && x.get<int64_t>() != 1)) split.fail(key, "a list of 0/1");
    out.push_back(static_cast<uint8_t>(x.get<int64_t>()));
  }
  return out;
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

void merge_split(const JsonView& src, size_t index, size_t count, Metric metric, PointScore& into) {
  scatter(flags(src, "correct"), index, count, into.correct, src, "correct");
  if (metric == Metric::kChoice) {
    scatter(flags(src, "correct_length_normalised"), index, count, into.correct_norm, src, "correct_length_normalised");
  }
  if (metric == Metric::kGenerateEm) {
    const Json& p = src.raw("predictions");
    if (!p.is_array()) src.fail("predictions", "a list of strings");
    std::vector<std::string> part;
    for (const auto& x : p) {
      if (!x.is_string()) src.fail("predictions", "a list of strings");
      part.push_back(x.get<std::string>());
    }
    scatter(part, index, count, into.predictions, src, "predictions");
  }
  if (src.has("seconds")) into.seconds = std::max(0.0, into.seconds) + src.number("seconds");
}

void size_split(PointScore& s, size_t n, Metric metric) {
  s.seconds = -1;  // stays so unless the shards were timed (--timing)
  s.correct.assign(n, 0);
  if (metric == Metric::kChoice) s.correct_norm.assign(n, 0);
  if (metric == Metric::kGenerateEm) s.predictions.assign(n, "");
}

}  // namespace

EvalResult merge_shards(const std::vector<ShardResult>& shards) {
  EvalResult result;
  std::vector<ScoredPoint>& scored = result.points;
  Metric& metric = result.metric;
  uint64_t& seed = result.seed;
  bool& has_dev = result.has_dev;
  if (shards.empty()) throw_usage("sadi merge: no shard files given");
  for (const auto& s : shards) {
    if (is_partial_result(s.json)) {
      throw_input(str(s.path, ": key 'partial': expected a finished shard, found a partial result of an interrupted "
                      "run (finish it with the same sadi eval command and --resume)"));
    }
  }
  const JsonView first(shards[0].json, shards[0].path);
  if (!first.has("shard")) first.fail("shard", "the results of sadi eval --shard I/N");
  const JsonView sh0 = first.object("shard");
  const auto count = static_cast<size_t>(sh0.positive("count"));
  const auto n_test = static_cast<size_t>(sh0.integer("n_test"));
  const auto n_dev = static_cast<size_t>(sh0.integer("n_dev"));
  metric = parse_metric(first.string("metric"));
  seed = static_cast<uint64_t>(first.integer("seed"));
  has_dev = n_dev > 0;
  if (shards.size() != count) {
    throw_input(str(shards[0].path, ": key 'shard.count': the run has ", count, " shards, ", shards.size(), " given"));
  }
  std::vector<int> seen(count, 0);
  const Json& pts0 = first.raw("points");
  for (const auto& p : pts0) {
    const JsonView v(p, shards[0].path, "points[]");
    ScoredPoint s;
    s.point = {parse_method(v.string("method"), "points[].method"), v.integer("top_k"), v.number("delta")};
    size_split(s.test, n_test, metric);
    if (has_dev) size_split(s.dev, n_dev, metric);
    scored.push_back(std::move(s));
  }
  for (const auto& shard : shards) {
    const JsonView r(shard.json, shard.path);
    if (!r.has("shard")) r.fail("shard", "the results of sadi eval --shard I/N");
    const JsonView sh = r.object("shard");
    const auto index = sh.positive("index");
    if (static_cast<size_t>(sh.positive("count")) != count || static_cast<size_t>(index) > count) {
      sh.fail("count", str("shard I/", count, " like ", shards[0].path));
    }
    if (seen[static_cast<size_t>(index - 1)]++) sh.fail("index", str("each shard once; shard ", index, " given twice"));
    if (static_cast<size_t>(sh.integer("n_test")) != n_test || static_cast<size_t>(sh.integer("n_dev")) != n_dev) {
      sh.fail("n_test", str("the same split sizes as ", shards[0].path));
    }
    for (const char* k : kSameKeys) {
      if (!shard.json.contains(k) || shard.json.at(k) != shards[0].json.at(k)) {
        r.fail(k, str("the same value as in ", shards[0].path, " (shards of one run)"));
      }
    }
    for (const char* k : {"model", "task", "dev", "mask"}) {
      if (identity(shard.json, k) != identity(shards[0].json, k)) {
        r.fail(k, str("the same ", k, " as ", shards[0].path, " (compared by fingerprint/hash)"));
      }
    }
    const Json& pts = r.raw("points");
    if (!pts.is_array() || pts.size() != scored.size()) r.fail("points", str(scored.size(), " points like ", shards[0].path));
    for (size_t p = 0; p < pts.size(); ++p) {
      const JsonView v(pts[p], shard.path, str("points[", p, "]"));
      if (v.string("method") != method_name(scored[p].point.method) || v.integer("top_k") != scored[p].point.top_k ||
          v.number("delta") != scored[p].point.delta) {
        v.fail("method", str("the same grid point as ", shards[0].path));
      }
      const auto idx = static_cast<size_t>(index - 1);
      merge_split(v.object("test"), idx, count, metric, scored[p].test);
      if (has_dev) merge_split(v.object("dev"), idx, count, metric, scored[p].dev);
    }
  }
  Json merged = shards[0].json;
  for (const char* k : {"shard", "points", "selected", "oracle", "command_line"}) merged.erase(k);
  merged["task"]["n_test"] = n_test;
  if (has_dev) merged["dev"]["n"] = n_dev;
  Json from = Json::array();
  for (const auto& s : shards) from.push_back(s.path);
  merged["merged_from"] = from;
  result.header = std::move(merged);
  return result;
}

}  // namespace sadi
