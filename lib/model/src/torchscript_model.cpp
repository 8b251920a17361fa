// The TorchScript backend: model.ts written by scripts/export_hf.py, called through the
// forward contract documented in scripts/sadi_export/modeling.py and docs/model-directory.md.
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include "sadi/core/context.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/model.hpp"
#include "sadi/model/tensor_types.hpp"
#include "sadi/model/threads.hpp"
#include "native/kernels.hpp"
#include "native/llama_step.hpp"

namespace sadi {
namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Room in the load arena beyond model.ts's size (its records are stored uncompressed): the
// module's other CPU allocations while it loads. What does not fit goes to LibTorch's allocator.
constexpr size_t kArenaSlack = size_t{16} << 20;

size_t file_bytes(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<size_t>(n);
}

// The informative line of a TorchScript interpreter error ("The following operation failed in
// the TorchScript interpreter. Traceback ... RuntimeError: <what>"): the RuntimeError line, else
// the last non-empty one.
std::string torch_error_line(const std::string& s) {
  std::string last;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    std::string line = s.substr(start, end - start);
    if (line.rfind("RuntimeError: ", 0) == 0) return line.substr(14);
    if (line.find_first_not_of(" \t") != std::string::npos) last = line;
    start = end + 1;
  }
  return last;
}

void check_shape(const torch::Tensor& t, const std::vector<int64_t>& want, const std::string& what) {
  if (!t.defined()) throw_input(str(what, ": missing tensor"));
  if (t.sizes().vec() != want) {
    throw_input(str(what, ": expected shape ", list_str(want), ", found ", list_str(t.sizes().vec())));
  }
}

void check_dtype(const torch::Tensor& t, torch::ScalarType want, const std::string& what) {
  if (t.scalar_type() != want) {
    throw_input(str(what, ": expected dtype ", dtype_name(want), ", found ", dtype_name(t.scalar_type())));
  }
}

// Index tensors built on the CPU are range-checked (an out-of-range gather on CUDA would abort).
void check_index(const torch::Tensor& t, int64_t limit, const std::string& what) {
  check_dtype(t, torch::kInt64, what);
  if (t.device().is_cpu() && t.numel() > 0) {
    int64_t lo = t.min().item<int64_t>(), hi = t.max().item<int64_t>();
    if (lo < 0 || hi >= limit) {
      throw_input(str(what, ": positions must lie in [0, ", limit, "), found ", lo, "..", hi));
    }
  }
}

class TorchScriptModel final : public Model {
 public:
  TorchScriptModel(ModelInfo info, torch::Device device, torch::ScalarType dtype, bool batch_invariant,
                   bool native_decode)
      : info_(std::move(info)), device_(device), dtype_(dtype), batch_invariant_(batch_invariant) {
    const auto path = (info_.dir / info_.model_file).string();
    OperationContext context(str("loading the model ", path));
    fault_point("load-model");
    std::unordered_map<std::string, std::string> extra{{"sadi_fingerprint", ""}};
    // Weights the native decode step may stream load straight onto 2 MiB pages (no copy after).
    const size_t model_bytes = file_bytes(path);
    std::shared_ptr<native::HugeArena> arena;
    if (native_decode && device_.is_cpu() && dtype_ == torch::kFloat32 && info_.norm_kind == NormKind::kRms &&
        info_.positions == PositionKind::kRope && !native::huge_pages_disabled()) {
      arena = native::HugeArena::reserve(model_bytes + kArenaSlack);
    }
    try {
      // A second thread faults the arena in ahead of the read where the user gave sadi two
      // threads or more: 250-530 ms to load SmolLM2-135M against 420-560 ms on 4 KiB pages and
      // 245-860 ms on 2 MiB pages faulted by the read itself (docs/benchmarks.md).
      native::ArenaLoadScope into_arena(arena, at::get_num_threads() > 1 ? model_bytes : 0);
      module_ = torch::jit::load(path, device_, extra);
    } catch (const c10::Error& e) {
      throw_input(str(path, ": cannot load the TorchScript module (corrupt or truncated file?): ",
                      first_line(e.what_without_backtrace())));
    } catch (const std::exception& e) {
      throw_input(str(path, ": cannot load the TorchScript module: ", first_line(e.what())));
    }
    if (extra["sadi_fingerprint"] != info_.fingerprint) {
      throw_input(str(path, ": weights fingerprint '", extra["sadi_fingerprint"].substr(0, 23),
                      "...' does not match manifest.json's '", info_.fingerprint.substr(0, 23),
                      "...' (model.ts and manifest.json come from different exports)"));
    }
    module_.eval();
    // The profiling executor re-specialises the graph for new input shapes, and every batch
    // has another sequence length. Unoptimised it is faster here (identify, small CPU model,
    // batch 1: 22.9 vs 18.7 pairs/s; see docs/benchmarks.md). Process-wide setting.
    torch::jit::setGraphExecutorOptimize(false);
    // Parameters only: the rotary frequency buffer stays float32 (as in the exporter).
    for (auto p : module_.parameters()) {
      if (p.scalar_type() != dtype_) p.set_data(p.to(dtype_));
    }
    check_dims(path);
    decode_kernel_ = native_decode ? native::LlamaStep::unsupported(module_, info_, dtype_, device_) : "off (--native-decode false)";
    const bool native = decode_kernel_.empty();
    // CPU matrices: row-major for the native decode step (it streams rows); column-major for the
    // module's decode otherwise (the same [out, in] values, transposed memory: MKL's
    // matrix-vector product reads it faster, 38 vs 47 ms per token for SmolLM2-135M's 538 MB;
    // docs/benchmarks.md, "Decode on a real model's shape"). scripts/export_hf.py writes them
    // row-major, so a Llama-family model loads without a copy.
    for (auto p : module_.parameters()) {
      if (!device_.is_cpu() || p.dim() != 2) continue;
      if (native && !p.is_contiguous()) p.set_data(p.contiguous());
      if (!native && p.is_contiguous()) p.set_data(p.t().contiguous().t());
    }
    check_finite_weights(path);
    if (native) {
      native_ = std::make_unique<native::LlamaStep>(module_, info_, arena);
      decode_kernel_ = str("native (", native::kernel_isa(), "; weights on ", native_->weight_pages(), ")");
    } else {
      decode_kernel_ = str("torchscript: ", decode_kernel_);
    }
    if (batch_invariant_) {
      if (!module_.hasattr("batch_invariant")) {
        throw_input(str(path, ": exported before batch-invariant mode existed; re-export it with "
                              "scripts/export_hf.py (or load it with batch_invariant false)"));
      }
      for (auto m : module_.modules()) {
        if (m.hasattr("batch_invariant")) m.setattr("batch_invariant", true);
      }
      // Exports before the pieces of modeling.py's elementwise()/mean_square() are batch-invariant
      // at one LibTorch thread only (docs/determinism.md).
      if (device_.is_cpu() && !module_.hasattr("invariant_at_any_threads")) {
        const std::string changed = restrict_threads_for_batch_invariance();
        if (!changed.empty()) log::info(changed);
      }
    }
    log::debug(str("loaded ", path, " on ", device_.str(), " as ", dtype_name(dtype_),
                   batch_invariant_ ? ", batch-invariant" : "", "; one-token steps: ", decode_kernel_));
  }

  [[noreturn]] void forward_failed(const std::string& message, int64_t rows, int64_t tokens) const {
    const std::string what = torch_error_line(message);
    if (is_out_of_memory(what)) {
      throw_runtime(str("out of memory in a forward pass of ", rows, " rows x ", tokens, " tokens on ",
                        device_.str(), ": lower the batch size (", what, ")"));
    }
    throw_runtime(str("model forward failed: ", what));
  }

  const ModelInfo& info() const override { return info_; }
  torch::Device device() const override { return device_; }
  torch::ScalarType dtype() const override { return dtype_; }
  bool batch_invariant() const override { return batch_invariant_; }
  std::string decode_kernel() const override { return decode_kernel_; }

  bool has_decode_step() const override { return native_ || module_.find_method("decode").has_value(); }

  torch::Tensor decode_step(const DecodeStep& in, KvCache& cache) override {
    OperationContext context(str("running the model's decode step ", (info_.dir / info_.model_file).string()));
    const int64_t b = cache.batch();
    if (cache.first_layer() > 0) {
      throw_input(str("decode_step: the KV cache holds layers from ", cache.first_layer(), " on only (a cache for forward_from)"));
    }
    if (!has_decode_step()) {
      throw_input(str(info_.dir.string(), "/", info_.model_file, ": exported before the fixed-shape decode step existed; "
                      "re-export it with scripts/export_hf.py"));
    }
    check_shape(in.input_ids, {b, 1}, "decode_step: input_ids");
    check_shape(in.positions, {b, 1}, "decode_step: positions");
    check_shape(in.key_mask, {b, cache.capacity()}, "decode_step: key_mask");
    check_dtype(in.key_mask, torch::kBool, "decode_step: key_mask");
    check_shape(in.slot, {1}, "decode_step: slot");
    check_dtype(in.slot, torch::kInt64, "decode_step: slot");
    c10::Dict<std::string, torch::Tensor> steer;
    if (in.steering != nullptr) add_steering(*in.steering, b, 1, native_ ? nullptr : &steer);
    c10::InferenceMode inference;
    torch::Tensor logits;
    if (native_) {
      logits = native_->step(in.input_ids.select(1, 0), in.positions.select(1, 0), in.key_mask,
                             in.slot.item<int64_t>(), false, cache, in.steering);
      if (in.check_finite) check_finite_logits(logits, b, 1);
      return logits;
    }
    c10::List<torch::Tensor> ck, cv;
    for (size_t l = 0; l < cache.k.size(); ++l) {
      ck.push_back(cache.k[l]);
      cv.push_back(cache.v[l]);
    }
    try {
      logits = module_.get_method("decode")({in.input_ids, in.positions, in.key_mask, in.slot, ck, cv, steer}).toTensor();
    } catch (const c10::Error& e) {
      forward_failed(e.what_without_backtrace(), b, cache.capacity());
    } catch (const std::exception& e) {
      forward_failed(e.what(), b, cache.capacity());
    }
    check_shape(logits, {b, info_.vocab_size}, "decode_step: the module's logits");
    if (in.check_finite) check_finite_logits(logits, b, 1);
    return logits;
  }

  ForwardOutput forward(const ForwardInput& in, KvCache* cache) override {
    OperationContext context(str("running the model ", (info_.dir / info_.model_file).string()));
    fault_point("forward");
    const int64_t b = in.input_ids.size(0);
    const int64_t t = in.input_ids.dim() == 2 ? in.input_ids.size(1) : 0;
    check_shape(in.input_ids, {b, t}, "forward: input_ids");
    if (t == 0) throw_input("forward: input_ids has no tokens");
    check_index(in.input_ids, info_.vocab_size, "forward: input_ids");
    auto [ck, cv] = check_chunk(in, cache, b, t, "forward");
    if (cache != nullptr && cache->first_layer() > 0) {
      throw_input(str("forward: the KV cache holds layers from ", cache->first_layer(), " on only (a cache for forward_from)"));
    }

    const bool native = native_ && t == 1 && cache != nullptr && in.capture.empty();
    c10::Dict<std::string, torch::Tensor> steer;
    if (in.steering != nullptr) add_steering(*in.steering, b, t, native ? nullptr : &steer);
    if (native) {
      // One token per row with a cache and no captures: the native step (llama_step.hpp).
      c10::InferenceMode inference;
      ForwardOutput out;
      out.logits = native_->step(in.input_ids.select(1, 0), in.positions.select(1, 0), in.key_mask, in.start, true,
                                 *cache, in.steering)
                       .unsqueeze(1)
                       .expand({b, in.logits_at.size(1), info_.vocab_size})
                       .contiguous();  // [B, N, V]: every logits_at is position 0
      check_finite_logits(out.logits, b, in.start + t);
      return out;
    }
    c10::Dict<std::string, torch::Tensor> capture;
    for (const auto& [site, pos] : in.capture) {
      if (!pos.defined() || pos.dim() != 2 || pos.size(0) != b) {
        throw_input(str("forward: capture '", site_name(site), "': expected positions of shape [", b, ", C]"));
      }
      check_index(pos, t, str("forward: capture '", site_name(site), "'"));
      capture.insert(site_name(site), pos.to(device_));
    }

    std::vector<torch::jit::IValue> args{in.input_ids.to(device_), in.positions.to(device_),
                                         in.key_mask.to(device_), in.start, ck, cv,
                                         in.logits_at.to(device_), steer, capture};
    // No autograd state at all (c10::InferenceMode): outputs are inference tensors, which callers
    // read, copy and compute with but never update in place.
    c10::InferenceMode inference;
    torch::jit::IValue result;
    try {
      result = module_.forward(args);
    } catch (const c10::Error& e) {
      forward_failed(e.what_without_backtrace(), b, in.start + t);
    } catch (const std::exception& e) {  // torch::jit::JITException (the interpreter's errors)
      forward_failed(e.what(), b, in.start + t);
    }
    ForwardOutput out = unpack(result, b, in.logits_at.size(1), in.capture);
    check_finite_logits(out.logits, b, in.start + t);
    return out;
  }

  bool has_forward_from() const override { return module_.find_method("forward_from").has_value(); }

  torch::Tensor forward_from(const ForwardInput& in, KvCache* cache, int64_t first, const torch::Tensor& hidden) override {
    OperationContext context(str("running the model ", (info_.dir / info_.model_file).string(), " from layer ", first));
    if (!has_forward_from()) {
      throw_input(str(info_.dir.string(), "/", info_.model_file, ": exported before forward_from existed; re-export it "
                      "with scripts/export_hf.py"));
    }
    if (first < 0 || first > info_.n_layers) throw_input(str("forward_from: layer ", first, " outside [0, ", info_.n_layers, "]"));
    const int64_t b = hidden.dim() == 3 ? hidden.size(0) : 0;
    const int64_t t = hidden.dim() == 3 ? hidden.size(1) : 0;
    check_shape(hidden, {b, t, info_.d_model}, "forward_from: hidden");
    if (t == 0) throw_input("forward_from: hidden has no tokens");
    if (hidden.scalar_type() != dtype_) {
      throw_input(str("forward_from: hidden is ", dtype_name(hidden.scalar_type()), ", the model runs in ", dtype_name(dtype_)));
    }
    if (!in.capture.empty()) throw_input("forward_from: captures are not supported (run forward())");
    if (cache != nullptr && cache->first_layer() > first) {
      throw_input(str("forward_from: the KV cache holds layers from ", cache->first_layer(), ", the call starts at ", first));
    }
    auto [ck, cv] = check_chunk(in, cache, b, t, "forward_from");
    c10::Dict<std::string, torch::Tensor> steer;
    if (in.steering != nullptr) {
      for (const auto& [site, edit] : in.steering->sites) {
        if (!edit.layers.empty() && edit.layers.begin()->first < first) {
          throw_input(str("forward_from: steering edits site '", site_name(site), "' in layer ", edit.layers.begin()->first,
                          ", below the first layer run (", first, ")"));
        }
      }
      add_steering(*in.steering, b, t, &steer);
    }
    c10::InferenceMode inference;
    torch::Tensor logits;
    try {
      logits = module_.get_method("forward_from")({first, hidden.to(device_), in.positions.to(device_), in.key_mask.to(device_),
                                                   in.start, ck, cv, in.logits_at.to(device_), steer})
                   .toTensor();
    } catch (const c10::Error& e) {
      forward_failed(e.what_without_backtrace(), b, in.start + t);
    } catch (const std::exception& e) {
      forward_failed(e.what(), b, in.start + t);
    }
    check_shape(logits, {b, in.logits_at.size(1), info_.vocab_size}, "forward_from: the module's logits");
    check_finite_logits(logits, b, in.start + t);
    return logits;
  }

 private:
  // The checks forward() and forward_from() share, of a chunk of t tokens per row: positions,
  // key_mask, logits_at and the cache. Returns the cache's K and V lists (empty without one).
  std::pair<c10::List<torch::Tensor>, c10::List<torch::Tensor>> check_chunk(const ForwardInput& in, KvCache* cache,
                                                                            int64_t b, int64_t t, const std::string& what) {
    check_shape(in.positions, {b, t}, what + ": positions");
    check_index(in.positions, info_.max_positions, what + ": positions (the model's max_positions)");
    check_shape(in.key_mask, {b, in.start + t}, what + ": key_mask");
    check_dtype(in.key_mask, torch::kBool, what + ": key_mask");
    if (!in.logits_at.defined() || in.logits_at.dim() != 2 || in.logits_at.size(0) != b) {
      throw_input(str(what, ": logits_at: expected shape [", b, ", N]"));
    }
    check_index(in.logits_at, t, what + ": logits_at");
    c10::List<torch::Tensor> ck, cv;
    if (cache != nullptr) {
      if (cache->batch() != b) throw_input(str(what, ": KV cache has ", cache->batch(), " rows, input has ", b));
      if (in.start + t > cache->capacity()) {
        throw_input(str(what, ": slots up to ", in.start + t, " exceed the KV cache capacity ", cache->capacity()));
      }
      for (size_t l = 0; l < cache->k.size(); ++l) {
        ck.push_back(cache->k[l]);
        cv.push_back(cache->v[l]);
      }
    } else if (in.start != 0) {
      throw_input(str(what, ": start > 0 needs a KV cache"));
    }
    return {ck, cv};
  }

  // Every parameter and buffer finite in the dtype the model runs in (the exporter's parity
  // check touches only the rows its prompt uses). A finite sum proves every value finite: one
  // vectorised read, no copy (about 10 ms per 100M float32 values here). A non-finite sum (a
  // NaN or inf, or finite values whose sum overflows) is settled by the exact elementwise test.
  void check_finite_weights(const std::string& path) {
    torch::NoGradGuard no_grad;
    auto check = [&](const std::string& name, const torch::Tensor& w) {
      if (!w.is_floating_point() || w.numel() == 0) return;
      if (std::isfinite(w.sum().item<double>()) || torch::isfinite(w).all().item<bool>()) return;
      auto bad = (~torch::isfinite(w)).flatten().nonzero();
      const int64_t flat = bad.numel() > 0 ? bad[0][0].item<int64_t>() : -1;
      const int64_t row_len = w.dim() >= 2 ? w.numel() / w.size(0) : 1;
      throw_input(str(path, ": weight '", name, "' ", list_str(w.sizes().vec()), " holds ", bad.numel(),
                      " non-finite values (NaN or inf), the first in row ", flat / row_len,
                      " (a corrupt checkpoint or export; re-export from a checkpoint with finite weights)"));
    };
    for (const auto& p : module_.named_parameters()) check(p.name, p.value);
    for (const auto& p : module_.named_buffers()) check(p.name, p.value);
  }

  // manifest.json's dims against what model.ts holds (its attributes and weight shapes, where it
  // has them): a disagreement would otherwise fail inside a reshape, or (heads of another size
  // with the same product) rank and steer the wrong elements without a word.
  void check_dims(const std::string& path) {
    const std::string origin = (info_.dir / "manifest.json").string();
    auto expect = [&](const std::string& key, int64_t manifest, int64_t module, const std::string& where) {
      if (manifest == module) return;
      throw_input(str(origin, ": key '", key, "' is ", manifest, " but model.ts has ", module, " (", where,
                      "): manifest.json and model.ts disagree; re-export the model"));
    };
    auto int_attr = [](const torch::jit::Module& m, const char* name) -> std::optional<int64_t> {
      if (!m.hasattr(name)) return std::nullopt;
      const auto v = m.attr(name);
      return v.isInt() ? std::optional<int64_t>(v.toInt()) : std::nullopt;
    };
    auto child = [](const torch::jit::Module& m, const std::string& name) -> std::optional<torch::jit::Module> {
      for (const auto& c : m.named_children()) {
        if (c.name == name) return c.value;
      }
      return std::nullopt;
    };
    if (auto n = int_attr(module_, "n_layers")) expect("dims.n_layers", info_.n_layers, *n, "n_layers");
    if (auto emb = child(module_, "embed_tokens"); emb && emb->hasattr("weight")) {
      const auto w = emb->attr("weight").toTensor();  // [V, d]
      expect("dims.vocab_size", info_.vocab_size, w.size(0), "embed_tokens.weight rows");
      expect("dims.d_model", info_.d_model, w.size(1), "embed_tokens.weight columns");
    }
    auto layers = child(module_, "layers");
    auto first = layers ? child(*layers, "0") : std::nullopt;
    if (!first) return;
    if (auto attn = child(*first, "self_attn")) {
      if (auto n = int_attr(*attn, "n_heads")) expect("dims.n_heads", info_.n_heads, *n, "layers.0.self_attn.n_heads");
      if (auto n = int_attr(*attn, "n_kv")) expect("dims.n_kv_heads", info_.n_kv_heads, *n, "layers.0.self_attn.n_kv");
      if (auto n = int_attr(*attn, "head_dim")) expect("dims.head_dim", info_.head_dim, *n, "layers.0.self_attn.head_dim");
    }
    auto mlp = child(*first, "mlp");
    auto down = mlp ? child(*mlp, "down_proj") : std::nullopt;
    if (down && down->hasattr("weight")) {
      const auto w = down->attr("weight").toTensor();  // [d, f]
      if (w.dim() == 2) expect("dims.d_ffn", info_.d_ffn, w.size(1), "layers.0.mlp.down_proj.weight columns");
    }
  }

  // model.ts's result: (logits [B, N, V], {site: [B, C, ...]}); anything else names the file.
  ForwardOutput unpack(const torch::jit::IValue& result, int64_t b, int64_t n,
                       const std::map<Site, torch::Tensor>& capture) const {
    const std::string path = (info_.dir / info_.model_file).string();
    auto wrong = [&](const std::string& found) {
      throw_input(str(path, ": forward returned ", found, "; expected (logits [B, N, vocab ", info_.vocab_size,
                      "], dict of captures) as written by scripts/export_hf.py (re-export the model)"));
    };
    if (!result.isTuple()) wrong(result.tagKind());
    const auto& elems = result.toTupleRef().elements();
    if (elems.size() != 2 || !elems[0].isTensor() || !elems[1].isGenericDict()) {
      wrong(str("a tuple of ", elems.size(), " (", elems.empty() ? "" : elems[0].tagKind(),
                elems.size() > 1 ? str(", ", elems[1].tagKind()) : "", ")"));
    }
    ForwardOutput out;
    out.logits = elems[0].toTensor();
    if (out.logits.sizes().vec() != std::vector<int64_t>{b, n, info_.vocab_size}) {
      wrong(str("logits of shape ", list_str(out.logits.sizes().vec()), " (manifest.json's dims disagree with model.ts?)"));
    }
    for (const auto& item : elems[1].toGenericDict()) {
      if (!item.key().isString() || !item.value().isTensor()) wrong("a capture dict that is not {str: Tensor}");
      const Site site = parse_site(item.key().toStringRef());
      torch::Tensor t = item.value().toTensor();
      if (!capture.count(site)) wrong(str("a capture '", site_name(site), "' that was not asked for"));
      const auto want = std::vector<int64_t>{b, capture.at(site).size(1), info_.n_layers, info_.site(site).units};
      if (t.sizes().vec() != want) {
        wrong(str("capture '", site_name(site), "' of shape ", list_str(t.sizes().vec()), " where manifest.json gives ",
                  list_str(want), " [B, C, layers, units] (manifest.json's dims disagree with model.ts?)"));
      }
      out.captured[site] = std::move(t);
    }
    for (const auto& [site, pos] : capture) {
      if (!out.captured.count(site)) wrong(str("no capture '", site_name(site), "' where one was asked for"));
    }
    return out;
  }

  // Checks `steering` against the shapes of a call of b rows x t tokens and, with `d`, adds its
  // tensors under the module's keys (modeling.py).
  void add_steering(const Steering& steering, int64_t b, int64_t t, c10::Dict<std::string, torch::Tensor>* d) {
    for (const auto& [site, edit] : steering.sites) {
      const std::string name = site_name(site);
      const int64_t units = info_.site(site).units;
      check_shape(edit.at, {b, t}, str("steering '", name, "': at"));
      check_dtype(edit.at, torch::kBool, str("steering '", name, "': at"));
      if (d) d->insert(name + ".at", edit.at.to(device_));
      for (const auto& [layer, le] : edit.layers) {
        if (layer < 0 || layer >= info_.n_layers) {
          throw_input(str("steering '", name, "': layer ", layer, " out of range [0, ", info_.n_layers, ")"));
        }
        const std::string key = str(name, ".", layer, ".");
        const std::pair<const char*, const torch::Tensor*> parts[] = {
            {"scale", &le.scale}, {"add", &le.add}, {"base", &le.base}};
        for (const auto& [op, tensor] : parts) {
          if (!tensor->defined()) continue;
          check_shape(*tensor, {b, units}, str("steering '", name, "' layer ", layer, ": ", op));
          if (d) d->insert(key + op, tensor->to(device_));
        }
        if (le.base_rows.defined()) {
          if (!le.base.defined()) throw_input(str("steering '", name, "' layer ", layer, ": base_rows without base"));
          check_shape(le.base_rows, {b}, str("steering '", name, "' layer ", layer, ": base_rows"));
          check_dtype(le.base_rows, torch::kBool, str("steering '", name, "': base_rows"));
          if (d) d->insert(key + "base_rows", le.base_rows.to(device_));
        }
      }
    }
  }

  ModelInfo info_;
  torch::Device device_;
  torch::ScalarType dtype_;
  bool batch_invariant_;
  torch::jit::Module module_;
  std::unique_ptr<native::LlamaStep> native_;  // null: one-token steps run the module
  std::string decode_kernel_;
};

}  // namespace

bool is_out_of_memory(const std::string& message) {
  return message.find("can't allocate memory") != std::string::npos ||  // DefaultCPUAllocator
         message.find("out of memory") != std::string::npos;            // CUDA caching allocator
}

KvCache::KvCache(const ModelInfo& info, int64_t batch, int64_t capacity, torch::ScalarType dtype,
                 torch::Device device, int64_t first_layer)
    : batch_(batch), capacity_(capacity), first_layer_(first_layer) {
  if (batch <= 0 || capacity <= 0) throw_input(str("KV cache: batch and capacity must be positive, found ", batch, " and ", capacity));
  if (first_layer < 0 || first_layer > info.n_layers) {
    throw_input(str("KV cache: first layer ", first_layer, " outside [0, ", info.n_layers, "]"));
  }
  auto opts = torch::TensorOptions().dtype(dtype).device(device);
  try {
    for (int64_t l = 0; l < info.n_layers; ++l) {
      const int64_t slots = l < first_layer ? 0 : capacity;
      k.push_back(torch::zeros({batch, info.n_kv_heads, slots, info.head_dim}, opts));
      v.push_back(torch::zeros({batch, info.n_kv_heads, slots, info.head_dim}, opts));
    }
  } catch (const c10::Error& e) {
    const std::string what = first_line(e.what_without_backtrace());
    if (!is_out_of_memory(what)) throw;
    throw_runtime(str("out of memory allocating the KV cache for ", batch, " rows x ", capacity, " tokens on ",
                      device.str(), ": lower the batch size (", what, ")"));
  }
}

void check_finite_logits(const torch::Tensor& logits, int64_t rows, int64_t tokens) {
  if (torch::isfinite(logits).all().item<bool>()) return;
  throw_runtime(str("model forward produced non-finite logits (NaN or inf) in a pass of ", rows, " rows x ", tokens,
                    " tokens: activations overflowed the model's dtype (a very large steering strength: delta, a CAA "
                    "multiplier or an ITI alpha; or float16 weights) or the weights are corrupt"));
}

torch::Tensor Model::forward_from(const ForwardInput&, KvCache*, int64_t, const torch::Tensor&) {
  throw_runtime("forward_from: this model backend cannot start at a layer");
}

torch::Tensor Model::decode_step(const DecodeStep&, KvCache&) {
  throw_runtime("decode_step: this model backend has no fixed-shape decode step");
}

std::unique_ptr<Model> load_model(const std::filesystem::path& dir, const LoadOptions& opts) {
  ModelInfo info = load_manifest(dir);
  torch::Device device = parse_device(opts.device);
  if (opts.device == "auto") {
    log::info(str("device auto: ", device.str(), device.is_cpu() ? " (no CUDA device in this build or on this machine)" : ""));
  }
  torch::ScalarType dtype = parse_dtype(opts.dtype.empty() ? info.dtype : opts.dtype);
  if (device.is_cpu() && dtype == torch::kFloat16) {
    throw_field(ErrorKind::kUsage, "dtype", " float16 is not supported on CPU (use float32 or bfloat16)");
  }
  const bool invariant = opts.batch_invariant.value_or(device.is_cpu());
  return std::make_unique<TorchScriptModel>(std::move(info), device, dtype, invariant, opts.native_decode);
}

}  // namespace sadi
