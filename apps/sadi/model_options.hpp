#pragma once
// --device, --dtype, --batch-invariant and --native-decode: how identify, eval, generate and info load the model
// (--threads is common to every command: main.cpp).
#include <optional>
#include <string>

#include <cxxopts.hpp>

#include "options.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/model.hpp"

namespace sadi::app {

// batch_invariant_default: "auto" (identify, eval, info) or "false" (generate: padded batches
// keep its speed; docs/determinism.md).
inline void add_model_options(cxxopts::Options& opts, const char* batch_invariant_default = "auto") {
  opts.add_options()
      ("device", "auto (CUDA when present, else cpu), cpu, cuda or cuda:N",
       cxxopts::value<std::string>()->default_value("auto"))
      ("dtype", "float32, float16 or bfloat16 (default: the model's)", cxxopts::value<std::string>()->default_value(""))
      ("batch-invariant", "true: a row's numbers do not depend on the rows batched with it, so results are "
       "identical for every --batch-size (rows of one length per batch; docs/determinism.md); false: "
       "padded batches of mixed lengths; auto: true on cpu, false on cuda",
       cxxopts::value<std::string>()->default_value(batch_invariant_default))
      ("native-decode", "true: one-token decoding steps of a float32 Llama-family model on the CPU run sadi's "
       "own kernels (docs/benchmarks.md); false: the TorchScript module", cxxopts::value<bool>()->default_value("true"));
}

// --prefix-sharing (identify, eval): docs/eval.md and docs/identify.md, "Prefix sharing".
inline void add_prefix_sharing_option(cxxopts::Options& opts, const char* what) {
  opts.add_options()("prefix-sharing", what, cxxopts::value<bool>()->default_value("true"));
}

inline LoadOptions load_options(const cxxopts::ParseResult& r) {
  const auto invariant = r["batch-invariant"].as<std::string>();
  std::optional<bool> value;
  if (invariant == "true") {
    value = true;
  } else if (invariant == "false") {
    value = false;
  } else if (invariant != "auto") {
    throw_usage(str("--batch-invariant: expected auto, true or false, found '", invariant, "'"));
  }
  LoadOptions out{r["device"].as<std::string>(), r["dtype"].as<std::string>(), value};
  out.native_decode = r["native-decode"].as<bool>();
  return out;
}

// The model of `dir`, loaded as the model options say; errors about the load options name the
// command's flags.
inline std::unique_ptr<Model> load_model_from_flags(const std::string& dir, const cxxopts::ParseResult& r) {
  static const FlagNames kModelFlags{{"device", "--device"}, {"dtype", "--dtype"}, {"batch_invariant", "--batch-invariant"}};
  return with_flag_names(kModelFlags, [&] { return load_model(dir, load_options(r)); });
}

}  // namespace sadi::app
