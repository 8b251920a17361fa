#include "sadi/model/manifest.hpp"

#include <set>

#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/named.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {

constexpr Named<NormKind> kNormKinds[] = {{NormKind::kRms, "rms"}, {NormKind::kLayer, "layer"}};
constexpr Named<PositionKind> kPositionKinds[] = {
    {PositionKind::kRope, "rope"}, {PositionKind::kLearned, "learned"}, {PositionKind::kAlibi, "alibi"}};
constexpr Named<RopeScaling> kRopeScalings[] = {
    {RopeScaling::kNone, "none"}, {RopeScaling::kLinear, "linear"}, {RopeScaling::kLlama3, "llama3"}};
constexpr Named<TokenizerKind> kTokenizerKinds[] = {{TokenizerKind::kSentencePiece, "sentencepiece"},
                                                    {TokenizerKind::kHfTokenizerJson, "hf-tokenizer-json"}};

const char* kind_name(NormKind k) { return name_of(kNormKinds, k); }
const char* kind_name(PositionKind k) { return name_of(kPositionKinds, k); }
const char* kind_name(RopeScaling k) { return name_of(kRopeScalings, k); }
const char* kind_name(TokenizerKind k) { return name_of(kTokenizerKinds, k); }

namespace {

// The value of string key `key` of `v`, one of `table`'s names; else fails naming the key.
template <typename E, size_t N>
E named_key(const JsonView& v, const char* key, const Named<E> (&table)[N]) {
  const std::string s = v.string(key);
  if (const E* e = find_named(table, s)) return *e;
  v.fail(key, names_of(table));
}

std::vector<int64_t> expected_shape(const ModelInfo& m, Site s) {
  switch (s) {
    case Site::kHead: return {m.n_layers, m.n_heads, m.head_dim};
    case Site::kNeuron: return {m.n_layers, m.d_ffn};
    case Site::kHidden:
    case Site::kResidual: return {m.n_layers, m.d_model};
  }
  return {};
}

void read_sites(const JsonView& root, const std::string& origin, ModelInfo& m) {
  const Json& sites = root.raw("sites");
  if (!sites.is_array()) root.fail("sites", "a list of site objects");
  for (size_t i = 0; i < sites.size(); ++i) {
    JsonView v(sites[i], origin, str("sites[", i, "]"));
    std::string name = v.string("name");
    Site s;
    try {
      s = parse_site(name);
    } catch (const Error&) {
      v.fail("name", "one of head, neuron, hidden, residual");
    }
    SiteInfo info{s, v.int_list("shape"), v.positive("units"), v.positive("score_units"),
                  v.has("group") ? v.positive("group") : 1, v.has("doc") ? v.string("doc") : ""};
    auto want = expected_shape(m, s);
    if (info.shape != want) v.fail("shape", str(list_str(want), " (from dims)"));
    int64_t units = 1;
    for (size_t d = 1; d < want.size(); ++d) units *= want[d];
    if (info.units != units) v.fail("units", str(units));
    if (info.score_units != want[1]) v.fail("score_units", str(want[1]));
    if (info.group * info.score_units != info.units) v.fail("group", str(info.units / info.score_units));
    m.sites.push_back(info);
  }
  for (Site s : kAllSites) {
    bool found = false;
    for (const auto& si : m.sites) found = found || si.site == s;
    if (!found) root.fail("sites", str("an entry for site '", site_name(s), "'"));
  }
}

}  // namespace

const SiteInfo& ModelInfo::site(Site s) const {
  for (const auto& si : sites) {
    if (si.site == s) return si;
  }
  throw_runtime(str("model has no site '", site_name(s), "'"));
}

namespace {

// dims: every dimension positive, n_kv_heads a divisor of n_heads.
void read_dims(const JsonView& root, ModelInfo& m) {
  JsonView dims = root.object("dims");
  m.n_layers = dims.positive("n_layers");
  m.n_heads = dims.positive("n_heads");
  m.n_kv_heads = dims.positive("n_kv_heads");
  m.head_dim = dims.positive("head_dim");
  m.d_model = dims.positive("d_model");
  m.d_ffn = dims.positive("d_ffn");
  m.vocab_size = dims.positive("vocab_size");
  m.max_positions = dims.positive("max_positions");
  if (m.n_heads % m.n_kv_heads != 0) dims.fail("n_kv_heads", str("a divisor of n_heads=", m.n_heads));
}

// norm and positions: what the module computes (informational; model.ts does it).
void read_computation(const JsonView& root, const std::string& origin, ModelInfo& m) {
  JsonView norm = root.object("norm");
  m.norm_kind = named_key(norm, "kind", kNormKinds);
  m.norm_eps = norm.number("eps");
  JsonView positions = root.object("positions");
  m.positions = named_key(positions, "kind", kPositionKinds);
  if (m.positions == PositionKind::kRope) {
    JsonView rope = positions.object("rope");
    m.rope_theta = rope.number("theta");
    const Json& scaling = rope.raw("scaling");
    if (!scaling.is_null()) {
      const JsonView sv(scaling, origin, "positions.rope.scaling");
      m.rope_scaling = named_key(sv, "rope_type", kRopeScalings);
      if (m.rope_scaling == RopeScaling::kNone) sv.fail("rope_type", "linear or llama3 (no scaling: null)");
    }
  }
}

}  // namespace

ModelInfo load_manifest(const std::filesystem::path& dir) {
  check_readable_dir(dir, "a model directory written by scripts/export_hf.py");
  std::error_code ec;
  const fs::path path = dir / "manifest.json";
  if (fs::symlink_status(path, ec).type() == fs::file_type::not_found) {
    throw_io(str(path.string(), ": file not found (is ", dir.string(), " a model directory written by scripts/export_hf.py?)"));
  }
  const std::string origin = path.string();
  const Json doc = parse_json(read_text_file(path), origin);
  JsonView root(doc, origin);
  ModelInfo m;
  m.dir = dir;
  m.format_version = root.integer("format_version");
  if (m.format_version > kFormatVersion) {
    throw_input(str(origin, ": key 'format_version': this sadi reads format_version ", kFormatVersion,
                    " or below, found ", m.format_version,
                    ": the model was exported by a newer scripts/export_hf.py; upgrade sadi or re-export"));
  }
  if (m.format_version < 1) root.fail("format_version", str("an integer from 1 to ", kFormatVersion));
  if (m.format_version < kFormatVersion) {
    throw_input(str(origin, ": key 'format_version': this sadi reads format_version ", kFormatVersion, ", found ",
                    m.format_version, ": the model was exported by an older scripts/export_hf.py (its steering inputs "
                    "differ); re-export it with scripts/export_hf.py"));
  }
  m.architecture = root.string("architecture");
  // Informational: the runtime does nothing per architecture (the computation is in model.ts).
  if (m.architecture.empty()) root.fail("architecture", "a non-empty name");
  m.hf_architecture = root.has("hf_architecture") ? root.string("hf_architecture") : m.architecture;
  read_dims(root, m);
  read_computation(root, origin, m);
  m.tied_embeddings = root.boolean("tied_embeddings");
  JsonView biases = root.object("biases");
  m.qkv_bias = biases.boolean("qkv");
  m.o_bias = biases.boolean("o");
  m.mlp_bias = biases.boolean("mlp");
  m.dtype = root.string("dtype");
  if (m.dtype != "float32" && m.dtype != "float16" && m.dtype != "bfloat16") {
    root.fail("dtype", "one of float32, float16, bfloat16");
  }
  JsonView special = root.object("special_tokens");
  m.bos_ids = special.int_list("bos");
  m.eos_ids = special.int_list("eos");
  m.pad_ids = special.int_list("pad");
  for (auto* ids : {&m.bos_ids, &m.eos_ids, &m.pad_ids}) {
    for (int64_t id : *ids) {
      if (id < 0 || id >= m.vocab_size) special.fail("bos/eos/pad", str("token ids in [0, ", m.vocab_size, ")"));
    }
  }
  JsonView tok = root.object("tokenizer");
  m.tokenizer = {tok.string("file"), named_key(tok, "kind", kTokenizerKinds), tok.boolean("add_bos")};
  JsonView weights = root.object("weights");
  m.fingerprint = weights.string("fingerprint");
  if (m.fingerprint.rfind("sha256:", 0) != 0 || m.fingerprint.size() != 7 + 64) {
    weights.fail("fingerprint", "\"sha256:\" followed by 64 hex digits");
  }
  m.n_parameters = weights.positive("n_parameters");
  JsonView file = root.object("model_file");
  m.model_file = file.string("name");
  m.model_file_bytes = file.positive("bytes");
  if (root.has("producer")) {
    JsonView p = root.object("producer");
    m.producer = str(p.has("tool") ? p.string("tool") : "?", " ", p.has("version") ? p.string("version") : "?",
                     " (torch ", p.has("torch") ? p.string("torch") : "?", ")");
  }
  read_sites(root, origin, m);

  const fs::path model_path = dir / m.model_file;
  if (!fs::exists(model_path, ec)) throw_io(str(model_path.string(), ": file not found (named by ", origin, ")"));
  check_readable_file(model_path);  // a directory, a socket, no read permission: named, exit 4
  auto size = static_cast<int64_t>(fs::file_size(model_path, ec));
  if (ec || size != m.model_file_bytes) {
    throw_input(str(model_path.string(), ": size is ", size, " bytes but ", origin, " records ",
                    m.model_file_bytes, " (truncated or replaced file? re-export the model)"));
  }
  const fs::path tok_path = dir / m.tokenizer.file;
  if (!fs::exists(tok_path, ec)) throw_io(str(tok_path.string(), ": file not found (named by ", origin, ")"));
  check_readable_file(tok_path);
  return m;
}

}  // namespace sadi
