// sadi info MODEL_DIR: what a model directory holds, from manifest.json; --check also loads
// model.ts and checks it against the manifest (lib/model/model_check.hpp).
#include <chrono>
#include <iomanip>
#include <iostream>

#include "commands.hpp"
#include "model_options.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/cuda_backend.hpp"
#include "sadi/model/model.hpp"
#include "sadi/model/model_check.hpp"
#include "sadi/model/tokenizer.hpp"

namespace sadi::app {
namespace {

Json info_json(const ModelInfo& m, const Tokenizer& tok) {
  Json sites = Json::array();
  for (const auto& s : m.sites) {
    sites.push_back({{"name", site_name(s.site)}, {"shape", s.shape}, {"units", s.units},
                     {"score_units", s.score_units}, {"doc", s.doc}});
  }
  return {{"dir", m.dir.string()}, {"format_version", m.format_version}, {"architecture", m.architecture},
          {"hf_architecture", m.hf_architecture}, {"n_layers", m.n_layers}, {"n_heads", m.n_heads},
          {"n_kv_heads", m.n_kv_heads}, {"head_dim", m.head_dim}, {"d_model", m.d_model}, {"d_ffn", m.d_ffn},
          {"vocab_size", m.vocab_size}, {"max_positions", m.max_positions}, {"dtype", m.dtype},
          {"norm", {{"kind", kind_name(m.norm_kind)}, {"eps", m.norm_eps}}}, {"positions", kind_name(m.positions)},
          {"rope_theta", m.rope_theta}, {"rope_scaling", kind_name(m.rope_scaling)}, {"tied_embeddings", m.tied_embeddings},
          {"n_parameters", m.n_parameters}, {"fingerprint", m.fingerprint},
          {"tokenizer", {{"file", m.tokenizer.file}, {"kind", kind_name(m.tokenizer.kind)}, {"pieces", tok.vocab_size()},
                         {"add_bos", m.tokenizer.add_bos}}},
          {"special_tokens", {{"bos", m.bos_ids}, {"eos", m.eos_ids}, {"pad", m.pad_ids}}},
          {"producer", m.producer}, {"sites", sites}};
}

void print_text(const ModelInfo& m, const Tokenizer& tok, std::ostream& os) {
  auto row = [&](const std::string& k, const std::string& v) { os << std::left << std::setw(16) << k << v << "\n"; };
  row("model", m.dir.string());
  row("architecture", str(m.architecture, " (", m.hf_architecture, ")"));
  row("layers", str(m.n_layers));
  row("heads", str(m.n_heads, " query, ", m.n_kv_heads, " key/value, head dim ", m.head_dim));
  row("d_model", str(m.d_model));
  row("d_ffn", str(m.d_ffn));
  row("vocab", str(m.vocab_size));
  row("max positions", str(m.max_positions));
  row("dtype", m.dtype);
  row("norm", str(kind_name(m.norm_kind), ", eps ", m.norm_eps));
  row("positions", m.positions == PositionKind::kRope
                       ? str("rope, theta ", m.rope_theta, ", scaling ", kind_name(m.rope_scaling))
                       : std::string(kind_name(m.positions)));
  row("tied embeddings", m.tied_embeddings ? "yes" : "no");
  row("biases", str("qkv ", m.qkv_bias ? "yes" : "no", ", o ", m.o_bias ? "yes" : "no", ", mlp ", m.mlp_bias ? "yes" : "no"));
  row("parameters", str(m.n_parameters));
  row("fingerprint", m.fingerprint);
  row("tokenizer", str(m.tokenizer.file, " (", kind_name(m.tokenizer.kind), ", ", tok.vocab_size(), " pieces, add_bos ",
                       m.tokenizer.add_bos ? "yes" : "no", ")"));
  row("special tokens", str("bos ", list_str(m.bos_ids), ", eos ", list_str(m.eos_ids), ", pad ", list_str(m.pad_ids)));
  row("format", str("format_version ", m.format_version, ", by ", m.producer));
  os << "sites (shape per token; units = values per layer steered; ranked = elements per layer):\n";
  for (const auto& s : m.sites) {
    os << "  " << std::left << std::setw(10) << site_name(s.site) << std::setw(16) << list_str(s.shape)
       << "units " << std::setw(7) << s.units << "ranked " << std::setw(7) << s.score_units << s.doc << "\n";
  }
}

// Loads model.ts and checks it against manifest.json on the tokenized "Hello"; returns
// milliseconds, and in `decode` what runs its one-token steps.
double check_forward(const ModelInfo& info, const Tokenizer& tok, const cxxopts::ParseResult& r, std::string& decode) {
  auto t0 = std::chrono::steady_clock::now();
  auto model = load_model_from_flags(info.dir, r);  // every weight checked finite on loading
  check_model_consistency(*model, tok.encode("Hello", info.tokenizer.add_bos));
  decode = model->decode_kernel();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int cmd_info(const Args& args) {
  cxxopts::Options opts(args[0], "Print a model directory's architecture, dimensions, sites and tokenizer.");
  opts.positional_help("MODEL_DIR");
  opts.add_options()
      ("model", "model directory (written by scripts/export_hf.py)", cxxopts::value<std::string>())
      ("json", "print JSON instead of text")
      ("check", "also load model.ts, check its weights are finite and that it agrees with manifest.json "
       "(loaded as the model options say) and say what runs its decoding steps");
  add_model_options(opts, "false");
  add_common_options(opts);
  opts.parse_positional({"model"});
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  if (!r.count("model")) throw_usage("sadi info: missing MODEL_DIR (see sadi info --help)");
  const ModelInfo info = load_manifest(r["model"].as<std::string>());
  const auto tok = load_tokenizer(info);
  if (r.count("json")) {
    std::cout << dump_json(info_json(info, *tok), 2) << "\n";
  } else {
    print_text(info, *tok, std::cout);
  }
  if (r.count("check")) {
    std::string decode;
    double ms = check_forward(info, *tok, r, decode);
    std::cerr << "check: model.ts loaded (weights finite), agrees with manifest.json (sites, dims, steering) in " << std::fixed << std::setprecision(1)
              << ms << " ms; one-token decoding steps: " << decode << "; CUDA backend: " << cuda_backend_status() << "\n";
  }
  return 0;
}

}  // namespace sadi::app
