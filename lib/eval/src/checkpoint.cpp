#include "sadi/eval/checkpoint.hpp"

#include <cmath>
#include <limits>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {
namespace {

Json number_to_json(double v) {
  if (std::isfinite(v)) return v;
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

double number_from_json(const Json& x, const JsonView& where, const std::string& key) {
  if (x.is_number()) return x.get<double>();
  if (x.is_string()) {
    const auto s = x.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  where.fail(key, "a list of numbers (or \"inf\", \"-inf\", \"nan\")");
}

}  // namespace

Json checkpoint_to_json(const RowCheckpoint& ck, Metric metric) {
  Json j{{"rows_total", ck.rows_total}, {"rows_done", ck.rows_done}};
  if (metric == Metric::kGenerateEm) {
    j["texts"] = ck.texts;
  } else {
    Json values = Json::array();
    for (double v : ck.values) values.push_back(number_to_json(v));
    j["values"] = std::move(values);
  }
  return j;
}

RowCheckpoint checkpoint_from_json(const Json& j, Metric metric, const std::string& origin,
                                   const std::string& prefix) {
  const JsonView v(j, origin, prefix);
  RowCheckpoint ck;
  ck.rows_total = v.integer("rows_total");
  ck.rows_done = v.integer("rows_done");
  if (ck.rows_done < 0 || ck.rows_done > ck.rows_total) {
    v.fail("rows_done", str("0 to rows_total (", ck.rows_total, "), found ", ck.rows_done));
  }
  const std::string key = metric == Metric::kGenerateEm ? "texts" : "values";
  const Json& a = v.raw(key);
  if (!a.is_array() || static_cast<int64_t>(a.size()) != ck.rows_done) {
    v.fail(key, str("a list of rows_done (", ck.rows_done, ") entries"));
  }
  for (const auto& x : a) {
    if (metric == Metric::kGenerateEm) {
      if (!x.is_string()) v.fail(key, "a list of strings");
      ck.texts.push_back(x.get<std::string>());
    } else {
      ck.values.push_back(number_from_json(x, v, key));
    }
  }
  return ck;
}

Json partial_result(const Json& config, const RowCheckpoint& test, const RowCheckpoint* dev, Metric metric,
                    const std::string& command_line) {
  Json resume{{"config", config}, {"test", checkpoint_to_json(test, metric)}};
  if (dev) resume["dev"] = checkpoint_to_json(*dev, metric);
  const int64_t done = test.rows_done + (dev ? dev->rows_done : 0);
  const int64_t total = test.rows_total + (dev ? dev->rows_total : 0);
  return Json{{"partial", true},
              {"note", str("interrupted after ", done, " of ", total, " rows",
                           dev && dev->rows_total == 0 ? " (the dev split not started)" : "",
                           "; run the same sadi eval command with --resume to finish")},
              {"tool_version", config.value("tool_version", "")},
              {"resume", std::move(resume)},
              {"command_line", command_line}};
}

bool is_partial_result(const Json& results) {
  return results.is_object() && results.contains("partial") && results.at("partial") == true;
}

void resume_from_partial(const Json& partial, const Json& config, Metric metric, const std::string& origin,
                 RowCheckpoint& test, RowCheckpoint& dev) {
  const JsonView top(partial, origin);
  const JsonView resume = top.object("resume");
  const Json& was = resume.raw("config");
  if (!was.is_object()) resume.fail("config", "an object");
  // Values that differ first (the likelier mistake), then keys the partial result lacks.
  for (const auto& [k, v] : config.items()) {
    if (k == "tool_version" || !was.contains(k)) continue;  // a newer build may finish an older run's rows
    if (was.at(k) != v) {
      throw_input(str(origin, ": key 'resume.config.", k, "': the partial result was made with ", dump_json(was.at(k)),
                      ", this command has ", dump_json(v), "; run the command that made it, or start afresh without resuming"));
    }
  }
  for (const auto& [k, v] : config.items()) {
    if (k != "tool_version" && !was.contains(k)) resume.object("config").fail(k, str(dump_json(v), " as in this command"));
  }
  test = checkpoint_from_json(resume.raw("test"), metric, origin, "resume.test");
  dev = resume.has("dev") ? checkpoint_from_json(resume.raw("dev"), metric, origin, "resume.dev") : RowCheckpoint{};
}

}  // namespace sadi
