#pragma once
// --device, --dtype and --batch-invariant: how identify and eval load the model.
#include <string>

#include <cxxopts.hpp>

#include "sadi/model/model.hpp"

namespace sadi::app {

inline void add_model_options(cxxopts::Options& opts) {
  opts.add_options()
      ("device", "cpu, cuda or cuda:N", cxxopts::value<std::string>()->default_value("cpu"))
      ("dtype", "float32, float16 or bfloat16 (default: the model's)", cxxopts::value<std::string>()->default_value(""))
      ("batch-invariant", "true: a row's numbers do not depend on the rows batched with it, so results are "
       "identical for every --batch-size (rows of one length per batch; docs/determinism.md); false: "
       "padded batches of mixed lengths", cxxopts::value<bool>()->default_value("true"));
}

// --prefix-sharing (identify, eval): docs/eval.md and docs/identify.md, "Prefix sharing".
inline void add_prefix_sharing_option(cxxopts::Options& opts, const char* what) {
  opts.add_options()("prefix-sharing", what, cxxopts::value<bool>()->default_value("true"));
}

inline LoadOptions load_options(const cxxopts::ParseResult& r) {
  return {r["device"].as<std::string>(), r["dtype"].as<std::string>(), r["batch-invariant"].as<bool>()};
}

}  // namespace sadi::app
