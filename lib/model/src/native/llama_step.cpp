#include "native/llama_step.hpp"

#include <ATen/Parallel.h>

#include <cmath>
#include <map>
#include <memory>
#include <optional>

#include "native/kernels.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi::native {
namespace {

std::optional<torch::jit::Module> child(const torch::jit::Module& m, const std::string& path) {
  torch::jit::Module cur = m;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = path.find('.', start);
    const std::string name = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool found = false;
    for (const auto& c : cur.named_children()) {
      if (c.name == name) {
        cur = c.value;
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

std::optional<double> num_attr(const torch::jit::Module& m, const char* name) {
  if (!m.hasattr(name)) return std::nullopt;
  const auto v = m.attr(name);
  if (v.isDouble()) return v.toDouble();
  if (v.isInt()) return static_cast<double>(v.toInt());
  if (v.isBool()) return v.toBool() ? 1.0 : 0.0;
  return std::nullopt;
}

std::map<std::string, torch::Tensor> params_of(const torch::jit::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.name] = p.value;
  for (const auto& p : m.named_buffers()) out[p.name] = p.value;
  return out;
}

// An RMSNorm of the exported module (modeling.py RMSNorm, no Gemma offset): empty, or why not.
std::string check_rms(const torch::jit::Module& root, const std::string& path) {
  auto m = child(root, path);
  if (!m) return str(path, " missing");
  const auto offset = num_attr(*m, "offset");
  if (!offset || !num_attr(*m, "eps")) return str(path, " is not an RMSNorm");
  if (*offset != 0.0) return str(path, " has a scale offset (Gemma)");
  return "";
}

// x [d] -> out [d]: weight * (x * rsqrt(mean(x^2) + eps)), as RMSNorm.forward in float32.
void rms_norm(const float* x, const float* w, float* out, int64_t d, double eps) {
  double ss = 0.0;
  for (int64_t i = 0; i < d; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float r = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(d)) + static_cast<float>(eps));
  for (int64_t i = 0; i < d; ++i) out[i] = w[i] * (x[i] * r);
}

const float* f32(const torch::Tensor& t) { return t.data_ptr<float>(); }

void add_bias(const torch::Tensor& b, float* y, int64_t rows, int64_t out) {
  if (!b.defined()) return;
  const float* bias = b.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) y[r * out + o] += bias[o];
  }
}

// Y [rows, out] = X [rows, in] W^T (+ b): rows `in` and `out` floats apart.
void linear(const torch::Tensor& w, const torch::Tensor& b, const float* x, float* y, int64_t rows) {
  const int64_t out = w.size(0), in = w.size(1);
  gemv(f32(w), out, in, x, in, y, out, rows);
  add_bias(b, y, rows, out);
}

// One site's edit in one layer, in place on x [B, U] (modeling.py Site.forward):
// a = base (in base_rows, or every row without them) else x; x = a + a * scale + add where at.
void apply_edit(const SiteEdit& e, int64_t layer, float* x, int64_t rows, int64_t units) {
  auto it = e.layers.find(layer);
  if (it == e.layers.end()) return;
  const LayerEdit& le = it->second;
  if (!le.scale.defined() && !le.add.defined() && !le.base.defined()) return;
  auto host = [](const torch::Tensor& t) {
    return t.defined() ? t.to(torch::kCPU, torch::kFloat32).contiguous() : torch::Tensor();
  };
  const torch::Tensor at = e.at.to(torch::kCPU, torch::kBool).contiguous();  // [B, 1]
  const torch::Tensor scale = host(le.scale), add = host(le.add), base = host(le.base);  // [B, U]
  const torch::Tensor base_rows = le.base_rows.defined() ? le.base_rows.to(torch::kCPU, torch::kBool).contiguous()
                                                         : torch::Tensor();  // [B]
  for (int64_t r = 0; r < rows; ++r) {
    if (!at.data_ptr<bool>()[r]) continue;
    float* xr = x + r * units;
    const bool from_base = base.defined() && (!base_rows.defined() || base_rows.data_ptr<bool>()[r]);
    const float* br = from_base ? f32(base) + r * units : nullptr;
    const float* sr = scale.defined() ? f32(scale) + r * units : nullptr;
    const float* ar = add.defined() ? f32(add) + r * units : nullptr;
    for (int64_t u = 0; u < units; ++u) {
      const float a = br ? br[u] : xr[u];
      float v = a;
      if (sr) v = v + a * sr[u];
      if (ar) v = v + ar[u];
      xr[u] = v;
    }
  }
}

void edit_site(const Steering* s, Site site, int64_t layer, float* x, int64_t rows, int64_t units) {
  if (s == nullptr) return;
  auto it = s->sites.find(site);
  if (it != s->sites.end()) apply_edit(it->second, layer, x, rows, units);
}

}  // namespace

// The per-call buffers, rows x width each.
struct LlamaStep::Work {
  int64_t rows;
  std::vector<float> x, xn, q, k, v, att, a, g, u, y, cos, sin;
  const Steering* steering;
  const int64_t* pos;
  int64_t slots;              // S
  std::vector<uint8_t> keep;  // [B, S]: 1 where the row attends to the slot (every layer alike)
};

std::string LlamaStep::unsupported(const torch::jit::Module& m, const ModelInfo& info, torch::ScalarType dtype,
                                   torch::Device device) {
  if (!device.is_cpu()) return "not on the CPU";
  if (dtype != torch::kFloat32) return str("dtype ", c10::toString(dtype), " (float32 only)");
  if (info.norm_kind != NormKind::kRms || info.positions != PositionKind::kRope) return "not RMSNorm with rotary positions";
  auto is = [&](const char* name, double want) {
    const auto v = num_attr(m, name);
    return v && *v == want;
  };
  if (!is("learned_positions", 0) || !is("alibi", 0) || !is("embed_scale", 1) || !is("final_softcap", 0)) {
    return "learned or ALiBi positions, an embedding scale or a final softcap";
  }
  if (auto e = child(m, "embed_norm"); !e || e->hasattr("weight")) return "a norm after the embeddings";
  if (auto w = check_rms(m, "norm"); !w.empty()) return w;
  const auto params = params_of(m);
  if (!params.count("inv_freq") || params.at("inv_freq").numel() != info.head_dim / 2) return "no rotary frequencies";
  for (int64_t l = 0; l < info.n_layers; ++l) {
    const std::string p = str("layers.", l, ".");
    auto layer = child(m, str("layers.", l));
    auto attn = child(m, p + "self_attn");
    auto mlp = child(m, p + "mlp");
    if (!layer || !attn || !mlp) return str(p, " incomplete");
    if (const auto sw = num_attr(*layer, "sandwich"); !sw || *sw != 0.0) return "sandwich norms (Gemma 2)";
    for (const char* n : {"input_layernorm", "post_attention_layernorm"}) {
      if (auto w = check_rms(m, p + n); !w.empty()) return w;
    }
    const auto softcap = num_attr(*attn, "softcap");
    if (!softcap || *softcap != 0.0 || !num_attr(*attn, "scaling")) return "attention with a softcap";
    if (num_attr(*attn, "n_heads") != static_cast<double>(info.n_heads) ||
        num_attr(*attn, "n_kv") != static_cast<double>(info.n_kv_heads) ||
        num_attr(*attn, "head_dim") != static_cast<double>(info.head_dim)) {
      return "attention dims differ from the manifest's";
    }
    if (params.count(p + "self_attn.q_norm.weight")) {
      if (auto w = check_rms(m, p + "self_attn.q_norm"); !w.empty()) return w;
      if (auto w = check_rms(m, p + "self_attn.k_norm"); !w.empty()) return w;
    }
    const auto gelu = num_attr(*mlp, "gelu_tanh"), gated = num_attr(*mlp, "gated");
    if (!gelu || *gelu != 0.0 || !gated || *gated != 1.0) return "an MLP that is not gated SiLU";
    for (const char* w : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                          "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
      if (!params.count(p + w + ".weight")) return str(p, w, " has no weight");
    }
  }
  if (!params.count("embed_tokens.weight") || (!info.tied_embeddings && !params.count("lm_head.weight"))) {
    return "no embedding or head weight";
  }
  return "";
}

// The streamed matrices on 2 MiB pages (huge_pages.hpp): where the load put them in an arena,
// collapse what the faults left on 4 KiB pages; otherwise move them into one. Off with
// SADI_NATIVE_HUGE_PAGES=0 (to measure what the pages bring: docs/benchmarks.md).
void LlamaStep::use_huge_pages(const std::shared_ptr<HugeArena>& loaded_into) {
  pages_ = "4 KiB pages: SADI_NATIVE_HUGE_PAGES=0";
  if (huge_pages_disabled()) return;
  std::vector<torch::Tensor*> mats{&embed_};
  if (!head_.is_same(embed_)) mats.push_back(&head_);
  for (auto& ly : layers_) {
    for (Linear* lin : {&ly.q, &ly.k, &ly.v, &ly.o, &ly.gate, &ly.up, &ly.down}) mats.push_back(&lin->w);
  }
  bool in_place = loaded_into != nullptr;
  for (const auto* t : mats) in_place = in_place && loaded_into->holds(t->data_ptr(), t->nbytes());
  pages_ = in_place ? loaded_into->collapse() : move_to_huge_pages(mats);
  if (pages_.rfind("2 MiB", 0) == 0) pages_ += in_place ? " (loaded onto them)" : " (copied onto them)";
}

LlamaStep::LlamaStep(const torch::jit::Module& m, const ModelInfo& info,
                     const std::shared_ptr<HugeArena>& loaded_into)
    : d_(info.d_model), f_(info.d_ffn), h_(info.n_heads), hkv_(info.n_kv_heads), dh_(info.head_dim),
      v_(info.vocab_size) {
  const auto params = params_of(m);
  auto get = [&](const std::string& name) {
    auto it = params.find(name);
    if (it == params.end()) throw_runtime(str("native decode: no parameter '", name, "'"));
    const torch::Tensor& t = it->second;
    if (t.scalar_type() != torch::kFloat32 || !t.device().is_cpu() || !t.is_contiguous()) {
      throw_runtime(str("native decode: parameter '", name, "' is not contiguous float32 on the CPU"));
    }
    return t;
  };
  auto opt = [&](const std::string& name) { return params.count(name) ? get(name) : torch::Tensor(); };
  auto eps = [&](const std::string& path) { return *num_attr(*child(m, path), "eps"); };
  auto lin = [&](const std::string& p) { return Linear{get(p + ".weight"), opt(p + ".bias")}; };
  for (int64_t l = 0; l < info.n_layers; ++l) {
    const std::string p = str("layers.", l, ".");
    Layer ly;
    ly.in_norm = get(p + "input_layernorm.weight");
    ly.post_norm = get(p + "post_attention_layernorm.weight");
    ly.in_eps = eps(p + "input_layernorm");
    ly.post_eps = eps(p + "post_attention_layernorm");
    ly.q_norm = opt(p + "self_attn.q_norm.weight");
    if (ly.q_norm.defined()) {
      ly.k_norm = get(p + "self_attn.k_norm.weight");
      ly.qk_eps = eps(p + "self_attn.q_norm");
    }
    ly.q = lin(p + "self_attn.q_proj");
    ly.k = lin(p + "self_attn.k_proj");
    ly.v = lin(p + "self_attn.v_proj");
    ly.o = lin(p + "self_attn.o_proj");
    ly.gate = lin(p + "mlp.gate_proj");
    ly.up = lin(p + "mlp.up_proj");
    ly.down = lin(p + "mlp.down_proj");
    layers_.push_back(std::move(ly));
  }
  scaling_ = *num_attr(*child(m, "layers.0.self_attn"), "scaling");
  embed_ = get("embed_tokens.weight");
  head_ = info.tied_embeddings ? embed_ : get("lm_head.weight");
  norm_ = get("norm.weight");
  use_huge_pages(loaded_into);
  norm_eps_ = eps("norm");
  inv_freq_ = get("inv_freq");
}

void LlamaStep::fused(std::initializer_list<std::pair<const Linear*, float*>> parts, const float* x, int64_t rows) {
  std::vector<GemvPart> gp;
  int64_t in = 0;
  for (const auto& [lin, y] : parts) {
    gp.push_back({f32(lin->w), lin->w.size(0), y, lin->w.size(0)});
    in = lin->w.size(1);
  }
  gemv_fused(gp, in, x, in, rows);
  for (const auto& [lin, y] : parts) add_bias(lin->b, y, rows, lin->w.size(0));
}

void LlamaStep::attention(const Layer& ly, int64_t l, Work& w, int64_t slot, KvCache& cache) const {
  const int64_t rows = w.rows, hd = h_ * dh_, kvd = hkv_ * dh_, half = dh_ / 2, n_rep = h_ / hkv_;
  fused({{&ly.q, w.q.data()}, {&ly.k, w.k.data()}, {&ly.v, w.v.data()}}, w.xn.data(), rows);  // [B, H*Dh], 2 x [B, Hkv*Dh]
  std::vector<float> tmp(static_cast<size_t>(dh_));
  // q_norm / k_norm (Qwen3), then the rotation q * cos + rotate_half(q) * sin, per head
  auto rotate = [&](float* x, const float* c, const float* s) {
    for (int64_t j = 0; j < dh_; ++j) tmp[j] = x[j];
    for (int64_t j = 0; j < dh_; ++j) {
      const float rot = j < half ? -tmp[j + half] : tmp[j - half];
      x[j] = tmp[j] * c[j] + rot * s[j];
    }
  };
  // heads [n, Dh] of one row: the per-head norm where the model has one, then the rotation
  auto heads = [&](float* x, int64_t n, const torch::Tensor& norm, const float* c, const float* s) {
    for (int64_t h = 0; h < n; ++h, x += dh_) {
      if (norm.defined()) {
        rms_norm(x, f32(norm), tmp.data(), dh_, ly.qk_eps);
        std::copy(tmp.begin(), tmp.end(), x);
      }
      rotate(x, c, s);
    }
  };
  for (int64_t r = 0; r < rows; ++r) {
    const float* c = w.cos.data() + r * dh_;
    const float* s = w.sin.data() + r * dh_;
    heads(w.q.data() + r * hd, h_, ly.q_norm, c, s);
    heads(w.k.data() + r * kvd, hkv_, ly.k_norm, c, s);
  }
  // K/V into the cache [B, Hkv, capacity, Dh] at `slot`
  const int64_t cap = cache.capacity();
  float* ck = cache.k[static_cast<size_t>(l)].data_ptr<float>();
  float* cv = cache.v[static_cast<size_t>(l)].data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < hkv_; ++g) {
      const int64_t at = ((r * hkv_ + g) * cap + slot) * dh_;
      std::copy_n(w.k.data() + r * kvd + g * dh_, dh_, ck + at);
      std::copy_n(w.v.data() + r * kvd + g * dh_, dh_, cv + at);
    }
  }
  // softmax(q . K / sqrt(Dh) over the row's attended slots) . V, one task per (row, KV head): the
  // n_rep query heads of a KV head are consecutive (as repeat_interleave) and read its K/V once
  const int64_t slots = w.slots;
  const auto scale = static_cast<float>(scaling_);
  at::parallel_for(0, rows * hkv_, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> p(static_cast<size_t>(n_rep * slots));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t r = task / hkv_, g = task % hkv_;
      const int64_t at = r * hd + g * n_rep * dh_;  // the group's first query head
      attend(w.q.data() + at, n_rep, ck + (r * hkv_ + g) * cap * dh_, cv + (r * hkv_ + g) * cap * dh_,
             w.keep.data() + r * slots, slots, dh_, scale, w.att.data() + at, p.data());
    }
  });
  edit_site(w.steering, Site::kHead, l, w.att.data(), rows, hd);
  linear(ly.o.w, ly.o.b, w.att.data(), w.a.data(), rows);  // [B, d]
}

void LlamaStep::mlp(const Layer& ly, int64_t l, Work& w, const Steering* steering) const {
  const int64_t rows = w.rows;
  fused({{&ly.gate, w.g.data()}, {&ly.up, w.u.data()}}, w.xn.data(), rows);  // [B, F] each
  for (float& x : w.g) x = x / (1.0f + std::exp(-x));                       // SiLU
  edit_site(steering, Site::kNeuron, l, w.g.data(), rows, f_);
  for (size_t i = 0; i < w.g.size(); ++i) w.g[i] = w.g[i] * w.u[i];
  linear(ly.down.w, ly.down.b, w.g.data(), w.y.data(), rows);  // [B, d]
  edit_site(steering, Site::kHidden, l, w.y.data(), rows, d_);
}

torch::Tensor LlamaStep::step(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& key_mask,
                              int64_t slot, bool attend_slot, KvCache& cache, const Steering* steering) const {
  const int64_t rows = ids.size(0);
  const auto id = ids.to(torch::kCPU).contiguous();
  const auto pos = positions.to(torch::kCPU).contiguous();
  const auto mask = key_mask.to(torch::kCPU).contiguous();
  for (size_t l = 0; l < cache.k.size(); ++l) {
    for (const auto* t : {&cache.k[l], &cache.v[l]}) {
      if (t->scalar_type() != torch::kFloat32 || !t->device().is_cpu() || !t->is_contiguous()) {
        throw_runtime("native decode: the KV cache is not contiguous float32 on the CPU");
      }
    }
  }
  if (slot < 0 || slot >= mask.size(1) || slot >= cache.capacity() || mask.size(0) != rows) {
    throw_input(str("native decode: slot ", slot, " outside the attended slots [0, ", mask.size(1), ") or the cache"));
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = id.data_ptr<int64_t>()[r];
    if (t < 0 || t >= v_) throw_input(str("decode: input_ids: token ", t, " outside the vocabulary [0, ", v_, ")"));
  }
  auto buf = [rows](int64_t width) { return std::vector<float>(static_cast<size_t>(rows * width)); };
  Work w{rows, buf(d_), buf(d_), buf(h_ * dh_), buf(hkv_ * dh_), buf(hkv_ * dh_), buf(h_ * dh_), buf(d_),
         buf(f_), buf(f_), buf(d_), buf(dh_), buf(dh_), steering, pos.data_ptr<int64_t>(), mask.size(1), {}};
  // the slots each row attends to: key_mask, and this step's own slot where attend_slot
  w.keep.resize(static_cast<size_t>(rows * w.slots));
  const bool* attended = mask.data_ptr<bool>();
  for (int64_t i = 0; i < rows * w.slots; ++i) w.keep[i] = attended[i] || (attend_slot && i % w.slots == slot);
  const int64_t half = dh_ / 2;
  const float* inv = f32(inv_freq_);
  for (int64_t r = 0; r < rows; ++r) {
    std::copy_n(f32(embed_) + id.data_ptr<int64_t>()[r] * d_, d_, w.x.data() + r * d_);
    for (int64_t j = 0; j < half; ++j) {
      const float fr = static_cast<float>(w.pos[r]) * inv[j];  // as positions.float() * inv_freq
      w.cos[r * dh_ + j] = w.cos[r * dh_ + j + half] = std::cos(fr);
      w.sin[r * dh_ + j] = w.sin[r * dh_ + j + half] = std::sin(fr);
    }
  }
  for (int64_t l = 0; l < static_cast<int64_t>(layers_.size()); ++l) {
    const Layer& ly = layers_[static_cast<size_t>(l)];
    for (int64_t r = 0; r < rows; ++r) rms_norm(w.x.data() + r * d_, f32(ly.in_norm), w.xn.data() + r * d_, d_, ly.in_eps);
    attention(ly, l, w, slot, cache);
    for (size_t i = 0; i < w.x.size(); ++i) w.x[i] = w.x[i] + w.a[i];  // h = x + attn
    for (int64_t r = 0; r < rows; ++r) rms_norm(w.x.data() + r * d_, f32(ly.post_norm), w.xn.data() + r * d_, d_, ly.post_eps);
    mlp(ly, l, w, steering);
    for (size_t i = 0; i < w.x.size(); ++i) w.x[i] = w.x[i] + w.y[i];  // out = h + mlp
    edit_site(steering, Site::kResidual, l, w.x.data(), rows, d_);
  }
  for (int64_t r = 0; r < rows; ++r) rms_norm(w.x.data() + r * d_, f32(norm_), w.xn.data() + r * d_, d_, norm_eps_);
  auto logits = torch::empty({rows, v_}, torch::kFloat32);  // [B, V]
  gemv(f32(head_), v_, d_, w.xn.data(), d_, logits.data_ptr<float>(), v_, rows);
  return logits;
}

}  // namespace sadi::native
