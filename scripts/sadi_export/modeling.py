"""Scriptable Llama-family decoder with built-in probe/steer sites and a caller-owned KV cache.

This is the exported module's source; its forward() is the runtime contract that
lib/model/src/torchscript_model.cpp calls (docs/model-directory.md, "Forward contract").

Shapes: B batch rows, T tokens in this chunk, S = start + T key slots, L layers, H query heads,
Hkv key/value heads, Dh head dim, d model dim, F FFN dim, V vocab.

Steering dictionary keys (all optional; absent keys cost nothing):
  "{site}.at"              [B, T] bool   positions of this chunk where the site is edited
  "{site}.{layer}.scale"   [B, U] float  A' = A + scale * A        (SADI: scale = delta * M)
  "{site}.{layer}.add"     [B, U] float  A' = A + add              (fixed vector, CAA)
  "{site}.{layer}.base"    [B, U] float  clamp: A is this value (the clean activation), not x
  "{site}.{layer}.base_rows" [B] bool    optional: rows where base applies; absent = every row
The one edit formula, A' = A + A * scale + add, is applied only at positions where "{site}.at"
is true. Rows whose scale/add are zero (and outside base_rows) are left bit-identical.
Capture dictionary: "{site}" -> [B, C] int64 positions of this chunk; the module returns
"{site}" -> [B, C, L, U] holding the site's value after any edit, in the model dtype.
"""
import math
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from .archs.spec import ArchSpec


def batched_linear(x: Tensor, weight: Tensor, bias: Optional[Tensor], invariant: bool) -> Tensor:
    """x [B, T, in] -> [B, T, out]. invariant: GEMMs of a fixed row count instead of one
    GEMM over all B*T rows, so a row's numbers do not depend on the rows that share its batch
    (CPU BLAS results depend on the matrix's row count). docs/determinism.md.
    One token in a batch of one (decoding, not invariant): a matrix-vector product, which reads
    the weights about twice as fast as a one-row GEMM on CPU BLAS (docs/benchmarks.md). Not in
    invariant mode: MKL's matrix-vector product splits the output rows over its threads, and on
    AVX-512 machines a row's result then depends on the thread count (172 x 64: rows differ at 1
    and 2 threads), which the fixed-size GEMMs below do not."""
    if x.size(1) == 1 and x.size(0) == 1 and not invariant:
        rows = [torch.mv(weight, x[i, 0]) for i in range(x.size(0))]
        y = torch.stack(rows).unsqueeze(1)  # [B, 1, out]
        if bias is not None:
            y = y + bias
        return y
    if invariant and x.size(0) > 0:
        # Fixed-shape GEMMs: the B*T rows in chunks of 16 (the last padded with
        # zeros), one torch.mm each. With torch 2.11's MKL a row's result depends on the GEMM's
        # row count (and torch.bmm's on the batch size), but not on its place in a chunk of a
        # fixed size, so a row gets the same numbers whatever shares its batch.
        chunk = 16  # rows per GEMM
        b, t = x.size(0), x.size(1)
        rows = x.reshape(b * t, x.size(2))
        n = rows.size(0)
        pad = (chunk - n % chunk) % chunk
        if pad > 0:
            rows = torch.cat([rows, rows.new_zeros(pad, rows.size(1))])
        wt = weight.t()
        y = torch.cat([torch.mm(c, wt) for c in rows.split(chunk)])[:n].view(b, t, weight.size(0))
        if bias is not None:
            y = y + bias
        return y
    return torch.nn.functional.linear(x, weight, bias)


# Batch-invariant elementwise functions and row norms (docs/determinism.md): ATen's vector kernels
# compute all but the last (n mod 2 * vector width) elements of a loop with SIMD code and those
# with scalar code that rounds differently (silu's std::exp against Sleef's), and split a loop
# over threads at places that depend on the tensor's size; so an element's bits depended on where
# its row sat in the batch. In pieces of 8192 elements (a multiple of any vector width, below
# ATen's parallel grain of 32768: one serial loop each, no scalar remainder) every element takes
# the SIMD path, whatever the batch and the thread count. (TorchScript takes no global constants:
# the 8192 is spelled out below.)


def _elementwise(x: Tensor, kind: str) -> Tensor:
    if kind == "silu":
        return torch.nn.functional.silu(x)
    if kind == "gelu_tanh":
        return torch.nn.functional.gelu(x, approximate="tanh")
    if kind == "tanh":
        return torch.tanh(x)
    if kind == "cos":
        return x.cos()
    if kind == "sin":
        return x.sin()
    raise RuntimeError("unknown elementwise function " + kind)


def elementwise(x: Tensor, kind: str, invariant: bool) -> Tensor:
    """silu, gelu_tanh, tanh, cos or sin of x (any shape); invariant: piece by piece, as above."""
    if not invariant or x.numel() == 0:
        return _elementwise(x, kind)
    flat = x.reshape(-1)
    n = flat.numel()
    pad = (64 - n % 64) % 64
    if pad > 0:
        flat = torch.cat([flat, flat.new_zeros(pad)])
    parts = [_elementwise(p, kind) for p in flat.split(8192)]
    return torch.cat(parts)[:n].view(x.shape)


def mean_square(h: Tensor, invariant: bool) -> Tensor:
    """h [..., d] -> mean of squares over d, [..., 1]. invariant: a few rows per call (one serial
    reduction each: ATen splits a large reduction's reduced dimension over threads when it is
    the tensor's largest, which depends on the batch)."""
    if not invariant or h.numel() == 0:
        return h.pow(2).mean(-1, keepdim=True)
    d = h.size(-1)
    rows = h.reshape(-1, d)
    per_call = max(1, 8192 // d)
    parts = [p.pow(2).mean(-1, keepdim=True) for p in rows.split(per_call)]
    out_shape = list(h.shape)
    out_shape[-1] = 1
    return torch.cat(parts).view(out_shape)


def head_logits(h: Tensor, weight: Tensor, invariant: bool) -> Tensor:
    """h [B, N, d] -> logits [B, N, V]. invariant: one GEMM per position, so neither the batch
    nor N (the batch's longest answer) changes a position's logits."""
    if invariant:
        nb, n = h.size(0), h.size(1)
        return batched_linear(h.reshape(nb * n, 1, h.size(2)), weight, None, True).view(nb, n, weight.size(0))
    return torch.nn.functional.linear(h, weight)


class Proj(nn.Linear):
    """nn.Linear (same parameters and names) with a batch-invariant mode that the runtime
    switches on by setting the attribute batch_invariant."""

    def __init__(self, d_in: int, d_out: int, bias: bool):
        super().__init__(d_in, d_out, bias=bias)
        self.batch_invariant = False

    def forward(self, x: Tensor) -> Tensor:
        return batched_linear(x, self.weight, self.bias, self.batch_invariant)


class HeadProj(Proj):
    """The untied LM head: logits per position in batch-invariant mode (head_logits)."""

    def forward(self, x: Tensor) -> Tensor:
        return head_logits(x, self.weight, self.batch_invariant)



class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float, offset: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim) if offset == 0.0 else torch.zeros(dim))  # [dim]
        self.eps = eps
        self.offset = offset  # Gemma: the scale is (1 + weight), applied in float32
        self.batch_invariant = False  # set by the runtime, as Proj's

    def forward(self, x: Tensor) -> Tensor:
        dtype = x.dtype
        h = x.float()
        var = mean_square(h, self.batch_invariant)
        h = h * torch.rsqrt(var + self.eps)
        if self.offset != 0.0:
            return (h * (self.offset + self.weight.float())).to(dtype)
        return self.weight * h.to(dtype)


def make_norm(d: int, eps: float, offset: float, layer_norm: bool) -> nn.Module:
    """LayerNorm (GPT-2: weight and bias) or RMSNorm (the Llama family)."""
    return nn.LayerNorm(d, eps=eps) if layer_norm else RMSNorm(d, eps, offset)


class Site(nn.Module):
    """A probe/steer point in one layer. Holds no state between calls."""

    def __init__(self, name: str, layer: int):
        super().__init__()
        self.name = name
        self.k_at = name + ".at"
        prefix = name + "." + str(layer) + "."
        self.k_scale = prefix + "scale"
        self.k_add = prefix + "add"
        self.k_base = prefix + "base"
        self.k_base_rows = prefix + "base_rows"

    def forward(self, x: Tensor, steer: Dict[str, Tensor], capture: Dict[str, Tensor],
                captured: Dict[str, List[Tensor]]) -> Tensor:
        # x: [B, T, U]
        has_scale = self.k_scale in steer
        has_add = self.k_add in steer
        has_base = self.k_base in steer
        if has_scale or has_add or has_base:
            if self.k_at not in steer:
                raise RuntimeError("steering for site '" + self.name + "' has no '" + self.k_at + "' positions")
            a = x
            if has_base:  # clamp: edit the given clean values instead of x
                base = steer[self.k_base].to(x.dtype).unsqueeze(1).expand_as(x)
                if self.k_base_rows in steer:
                    a = torch.where(steer[self.k_base_rows].view(-1, 1, 1), base, x)
                else:
                    a = base
            edit = a
            if has_scale:
                edit = edit + a * steer[self.k_scale].to(x.dtype).unsqueeze(1)
            if has_add:
                edit = edit + steer[self.k_add].to(x.dtype).unsqueeze(1)
            x = torch.where(steer[self.k_at].unsqueeze(-1), edit, x)
        if self.name in capture:
            idx = capture[self.name]  # [B, C]
            got = torch.gather(x, 1, idx.unsqueeze(-1).expand(idx.size(0), idx.size(1), x.size(2)))
            captured[self.name].append(got)  # [B, C, U]
        return x


def rotate_half(x: Tensor) -> Tensor:
    half = x.size(-1) // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, layer: int, d: int, n_heads: int, n_kv: int, head_dim: int, qkv_bias: bool, o_bias: bool,
                 qk_norm: bool = False, eps: float = 1e-6, scaling: float = 0.0, softcap: float = 0.0):
        super().__init__()
        self.n_heads = n_heads
        self.n_kv = n_kv
        self.head_dim = head_dim
        self.n_rep = n_heads // n_kv
        self.scaling = scaling if scaling > 0.0 else head_dim ** -0.5
        self.softcap = softcap  # Gemma 2: scores = softcap * tanh(scores / softcap)
        self.q_proj = Proj(d, n_heads * head_dim, qkv_bias)
        self.k_proj = Proj(d, n_kv * head_dim, qkv_bias)
        self.v_proj = Proj(d, n_kv * head_dim, qkv_bias)
        self.o_proj = Proj(n_heads * head_dim, d, o_bias)
        # Qwen3: RMSNorm over each head's query and key before the rotation
        self.q_norm = RMSNorm(head_dim, eps) if qk_norm else nn.Identity()
        self.k_norm = RMSNorm(head_dim, eps) if qk_norm else nn.Identity()
        self.head_site = Site("head", layer)
        self.batch_invariant = False  # per-row score products (the runtime sets it, see batched_linear)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, bias: Tensor, start: int, slot: Optional[Tensor],
                cache_k: Optional[Tensor], cache_v: Optional[Tensor],
                steer: Dict[str, Tensor], capture: Dict[str, Tensor],
                captured: Dict[str, List[Tensor]]) -> Tensor:
        # x [B, T, d]; cos/sin [B, 1, T, Dh]; bias [B, 1, T, S] float32; slot: see CausalLM.decode
        b, t = x.size(0), x.size(1)
        q = self.q_norm(self.q_proj(x).view(b, t, self.n_heads, self.head_dim)).transpose(1, 2)  # [B, H, T, Dh]
        k = self.k_norm(self.k_proj(x).view(b, t, self.n_kv, self.head_dim)).transpose(1, 2)     # [B, Hkv, T, Dh]
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)     # [B, Hkv, T, Dh]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache_k is not None and cache_v is not None and slot is not None:
            # static decode step: the slot is a tensor and every slot of the cache is attended to
            # (the bias masks the free ones), so shapes and the work do not change from step to step
            cache_k.index_copy_(2, slot, k)
            cache_v.index_copy_(2, slot, v)
            k = cache_k
            v = cache_v
        elif cache_k is not None and cache_v is not None:
            # cache_k/v [B, Hkv, capacity, Dh], owned by the caller; slots [start, start+T) are written
            cache_k[:, :, start:start + t] = k
            cache_v[:, :, start:start + t] = v
            k = cache_k[:, :, :start + t]
            v = cache_v[:, :, :start + t]
        # Grouped KV without copying K/V: the n_rep query heads of a KV head (consecutive, as in
        # repeat_interleave) are stacked as n_rep*T query rows of that head.
        s_len = k.size(2)
        qg = q.reshape(b, self.n_kv, self.n_rep * t, self.head_dim)  # [B, Hkv, n_rep*T, Dh]
        if self.batch_invariant and b > 0:  # torch.matmul's batched kernel depends on B for a transposed K
            scores = torch.stack([torch.matmul(qg[i], k[i].transpose(1, 2)) for i in range(b)]) * self.scaling
        elif t == 1:  # decoding: a few query rows against the cache; a GEMM would pack (copy) all of K
            scores = (k.unsqueeze(2) * qg.unsqueeze(3)).sum(-1) * self.scaling  # [B, Hkv, n_rep, S]
        else:
            scores = torch.matmul(qg, k.transpose(2, 3)) * self.scaling  # [B, Hkv, n_rep*T, S]
        if self.softcap > 0.0:
            scores = elementwise(scores / self.softcap, "tanh", self.batch_invariant) * self.softcap
        if bias.size(1) == 1:
            bias_g = bias.unsqueeze(2)  # [B, 1, 1, T, S]
        else:  # per-head bias (ALiBi): [B, H, T, S] -> [B, Hkv, n_rep, T, S]
            bias_g = bias.view(bias.size(0), self.n_kv, self.n_rep, t, s_len)
        scores = scores.float().view(b, self.n_kv, self.n_rep, t, s_len) + bias_g
        probs = torch.softmax(scores, dim=-1).to(q.dtype).view(b, self.n_kv, self.n_rep * t, s_len)
        if self.batch_invariant and b > 0:  # (a sum over S splits over threads by the batch's size)
            o = torch.stack([torch.matmul(probs[i], v[i]) for i in range(b)])  # [B, Hkv, n_rep*T, Dh]
        elif t == 1:
            o = (probs.unsqueeze(-1) * v.unsqueeze(2)).sum(3)  # [B, Hkv, n_rep, Dh]
        else:
            o = torch.matmul(probs, v)  # [B, Hkv, n_rep*T, Dh]
        o = o.view(b, self.n_heads, t, self.head_dim).transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim)  # [B, T, H*Dh]
        o = self.head_site(o, steer, capture, captured)
        return self.o_proj(o)


class MLP(nn.Module):
    def __init__(self, layer: int, d: int, f: int, bias: bool, gelu_tanh: bool = False, gated: bool = True):
        super().__init__()
        self.gelu_tanh = gelu_tanh  # Gemma: GeGLU with the tanh approximation of GELU
        self.gated = gated          # GPT-2: down(act(gate(x))), no up projection
        self.gate_proj = Proj(d, f, bias)
        self.up_proj = Proj(d, f, bias) if gated else nn.Identity()
        self.down_proj = Proj(f, d, bias)
        self.neuron_site = Site("neuron", layer)
        self.hidden_site = Site("hidden", layer)
        self.batch_invariant = False  # set by the runtime, as Proj's

    def forward(self, x: Tensor, steer: Dict[str, Tensor], capture: Dict[str, Tensor],
                captured: Dict[str, List[Tensor]]) -> Tensor:
        g = elementwise(self.gate_proj(x), "gelu_tanh" if self.gelu_tanh else "silu", self.batch_invariant)  # [B, T, F]
        g = self.neuron_site(g, steer, capture, captured)
        if self.gated:
            y = self.down_proj(g * self.up_proj(x))  # [B, T, d]
        else:
            y = self.down_proj(g)
        return self.hidden_site(y, steer, capture, captured)


class DecoderLayer(nn.Module):
    def __init__(self, layer: int, arch: ArchSpec):
        super().__init__()
        d, eps, off, ln = arch.d_model, float(arch.norm_eps), float(arch.norm_offset), arch.norm == "layer"
        self.sandwich = bool(arch.sandwich_norms)
        self.input_layernorm = make_norm(d, eps, off, ln)
        self.self_attn = Attention(layer, d, arch.n_heads, arch.n_kv_heads, arch.head_dim, arch.qkv_bias, arch.o_bias,
                                   arch.qk_norm, eps, float(arch.attn_scale), float(arch.attn_softcap))
        # Llama: post_attention_layernorm is the norm before the MLP. Gemma 2 (sandwich): it
        # normalises the attention output, and pre/post_feedforward_layernorm wrap the MLP.
        self.post_attention_layernorm = make_norm(d, eps, off, ln)
        self.pre_feedforward_layernorm = RMSNorm(d, eps, off) if self.sandwich else nn.Identity()
        self.post_feedforward_layernorm = RMSNorm(d, eps, off) if self.sandwich else nn.Identity()
        self.mlp = MLP(layer, d, arch.d_ffn, arch.mlp_bias, arch.activation == "gelu_tanh", arch.mlp == "gated")
        self.residual_site = Site("residual", layer)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, bias: Tensor, start: int, slot: Optional[Tensor],
                cache_k: Optional[Tensor], cache_v: Optional[Tensor],
                steer: Dict[str, Tensor], capture: Dict[str, Tensor],
                captured: Dict[str, List[Tensor]]) -> Tensor:
        a = self.self_attn(self.input_layernorm(x), cos, sin, bias, start, slot, cache_k, cache_v, steer, capture,
                           captured)
        if self.sandwich:
            h = x + self.post_attention_layernorm(a)
            out = h + self.post_feedforward_layernorm(
                self.mlp(self.pre_feedforward_layernorm(h), steer, capture, captured))
        else:
            h = x + a
            out = h + self.mlp(self.post_attention_layernorm(h), steer, capture, captured)
        return self.residual_site(out, steer, capture, captured)


def alibi_slopes(n_heads: int) -> Tensor:
    """ALiBi's per-head slopes [H] (Press et al.; BLOOM's build_alibi_tensor)."""
    closest = 2 ** math.floor(math.log2(n_heads))
    base = 2.0 ** (-(2.0 ** -(math.log2(closest) - 3)))
    slopes = [base ** i for i in range(1, closest + 1)]
    if closest != n_heads:
        extra = 2.0 ** (-(2.0 ** -(math.log2(2 * closest) - 3)))
        slopes += [extra ** i for i in range(1, 2 * (n_heads - closest) + 1, 2)]
    return torch.tensor(slopes, dtype=torch.float32)


def rope_inv_freq(head_dim: int, theta: float, scaling: Optional[dict]) -> Tensor:
    """inv_freq [Dh/2] float32, with HF's "linear" and "llama3" rescaling."""
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    if scaling is None:
        return inv
    kind = scaling["rope_type"]
    if kind == "linear":
        return inv / float(scaling["factor"])
    if kind == "llama3":
        factor = float(scaling["factor"])
        low = float(scaling["low_freq_factor"])
        high = float(scaling["high_freq_factor"])
        old_ctx = float(scaling["original_max_position_embeddings"])
        low_wl = old_ctx / low
        high_wl = old_ctx / high
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old_ctx / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wl) & ~(wavelen > low_wl)
        return torch.where(medium, smoothed, scaled)
    raise ValueError("unsupported rope scaling type " + kind)


class CausalLM(nn.Module):
    """The exported model. forward() is the runtime contract; see the module docstring."""

    def __init__(self, arch: ArchSpec):
        super().__init__()
        d = int(arch.d_model)
        self.n_layers = int(arch.n_layers)
        self.tied = bool(arch.tied_embeddings)
        self.embed_tokens = nn.Embedding(int(arch.vocab_size), d)
        # GPT-2: learned absolute positions added to the embeddings (and no rotation)
        self.learned_positions = arch.positions == "learned"
        self.embed_positions = (nn.Embedding(int(arch.max_positions), d) if self.learned_positions
                                else nn.Identity())
        # BLOOM: LayerNorm right after the embeddings, and ALiBi slopes instead of positions
        self.embed_norm = nn.LayerNorm(d, eps=float(arch.norm_eps)) if arch.embed_norm else nn.Identity()
        self.alibi = arch.positions == "alibi"
        self.register_buffer("alibi_slopes", alibi_slopes(int(arch.n_heads)), persistent=False)  # [H]
        self.embed_scale = float(arch.embed_scale)    # Gemma: sqrt(d_model)
        self.final_softcap = float(arch.final_softcap)  # Gemma 2
        self.layers = nn.ModuleList([DecoderLayer(i, arch) for i in range(self.n_layers)])
        self.norm = make_norm(d, float(arch.norm_eps), float(arch.norm_offset), arch.norm == "layer")
        if not self.tied:
            self.lm_head = HeadProj(d, int(arch.vocab_size), False)
        else:
            self.lm_head = nn.Identity()
        # float32 always: C++ casts parameters only, buffers keep their dtype. No rotation (cos 1,
        # sin 0) unless the positions are rotary.
        inv_freq = (rope_inv_freq(int(arch.head_dim), float(arch.rope_theta), arch.rope_scaling)
                    if arch.positions == "rope" else torch.zeros(int(arch.head_dim) // 2))
        self.register_buffer("inv_freq", inv_freq, persistent=True)
        self.site_names: List[str] = ["head", "neuron", "hidden", "residual"]
        # Set by the runtime (with every Proj's): logits one position at a time, below.
        self.batch_invariant = False
        # Marks exports whose batch-invariant mode holds at any thread count (elementwise() and
        # mean_square() above); the runtime holds older ones to one LibTorch thread.
        self.invariant_at_any_threads = True

    def embed(self, input_ids: Tensor, positions: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """input_ids, positions [B, T] -> x [B, T, d], cos and sin [B, 1, T, Dh]."""
        x = self.embed_tokens(input_ids)  # [B, T, d]
        if self.embed_scale != 1.0:
            x = x * torch.tensor(self.embed_scale, dtype=x.dtype)
        if self.learned_positions:
            x = x + self.embed_positions(positions)
        x = self.embed_norm(x)
        cos, sin = self.rotary(positions, x)
        return x, cos, sin

    def rotary(self, positions: Tensor, like: Tensor) -> Tuple[Tensor, Tensor]:
        """positions [B, T] -> cos and sin [B, 1, T, Dh] in like's dtype."""
        freqs = positions.float().unsqueeze(-1) * self.inv_freq  # [B, T, Dh/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = elementwise(emb, "cos", self.batch_invariant)
        sin = elementwise(emb, "sin", self.batch_invariant)
        return cos.to(like.dtype).unsqueeze(1), sin.to(like.dtype).unsqueeze(1)

    def chunk_bias(self, key_mask: Tensor, start: int, t: int, like: Tensor) -> Tensor:
        """The attention bias of a chunk of t tokens from slot start: key_mask [B, S] -> [B, 1, T, S]
        (0 where a query may attend, -1e30 elsewhere; finite: a fully masked row never yields NaN)."""
        s = start + t
        if key_mask.size(1) != s:
            raise RuntimeError("key_mask must have start + T columns")
        q_slot = torch.arange(start, s, device=key_mask.device).unsqueeze(1)  # [T, 1]
        k_slot = torch.arange(0, s, device=key_mask.device).unsqueeze(0)      # [1, S]
        allowed = ((k_slot <= q_slot).unsqueeze(0) & key_mask.unsqueeze(1)) | (k_slot == q_slot).unsqueeze(0)
        bias = torch.zeros(allowed.shape, dtype=torch.float32, device=like.device).masked_fill(
            ~allowed, -1.0e30).unsqueeze(1)
        return self.with_alibi(bias, key_mask)

    def check_cache(self, start: int, cache_k: List[Tensor], cache_v: List[Tensor]) -> bool:
        use_cache = len(cache_k) > 0
        if use_cache and (len(cache_k) != self.n_layers or len(cache_v) != self.n_layers):
            raise RuntimeError("cache_k and cache_v must hold one tensor per layer")
        if not use_cache and start != 0:
            raise RuntimeError("start > 0 needs a KV cache")
        return use_cache

    def run_layers(self, first: int, x: Tensor, cos: Tensor, sin: Tensor, bias: Tensor, start: int, use_cache: bool,
                   cache_k: List[Tensor], cache_v: List[Tensor], steer: Dict[str, Tensor], capture: Dict[str, Tensor],
                   captured: Dict[str, List[Tensor]]) -> Tensor:
        """Layers first .. L-1 over x [B, T, d] (the stream entering layer `first`) -> [B, T, d]."""
        i = 0
        for layer in self.layers:
            if i >= first:
                ck: Optional[Tensor] = None
                cv: Optional[Tensor] = None
                if use_cache:
                    ck = cache_k[i]
                    cv = cache_v[i]
                x = layer(x, cos, sin, bias, start, None, ck, cv, steer, capture, captured)
            i += 1
        return x

    def logits_of(self, x: Tensor, logits_at: Tensor) -> Tensor:
        """x [B, T, d] (the last layer's output), logits_at [B, N] -> logits [B, N, V] float32."""
        idx = logits_at.unsqueeze(-1).expand(logits_at.size(0), logits_at.size(1), x.size(2))
        return self.head(self.norm(torch.gather(x, 1, idx)))

    def with_alibi(self, bias: Tensor, key_mask: Tensor) -> Tensor:
        """BLOOM: slope_h * key position, positions counted over real tokens as HF's BLOOM does;
        the softmax is shift-invariant, so this equals the relative form. bias [B, 1, T, S]."""
        if not self.alibi:
            return bias
        kpos = (key_mask.long().cumsum(-1) - 1).clamp(min=0).float()  # [B, S]
        return bias + self.alibi_slopes.view(1, -1, 1, 1) * kpos.view(kpos.size(0), 1, 1, kpos.size(1))

    def head(self, h: Tensor) -> Tensor:
        """h [B, N, d] (normalised) -> logits [B, N, V] float32."""
        if self.tied:
            logits = head_logits(h, self.embed_tokens.weight, self.batch_invariant)
        else:
            logits = self.lm_head(h)
        if self.final_softcap > 0.0:
            logits = elementwise(logits.float() / self.final_softcap, "tanh", self.batch_invariant) * self.final_softcap
        return logits.float()

    @torch.jit.export
    def decode(self, input_ids: Tensor, positions: Tensor, key_mask: Tensor, slot: Tensor,
               cache_k: List[Tensor], cache_v: List[Tensor], steer: Dict[str, Tensor]) -> Tensor:
        """One decoding step with shapes that do not change from step to step and no value read
        back to the host: what a CUDA graph can capture once and replay (docs/gpu.md).
        input_ids, positions [B, 1]; key_mask [B, capacity] bool, true on every real slot up to and
        including this step's; slot [1] int64, the cache slot this step's K/V are written to;
        cache_k/v: L tensors [B, Hkv, capacity, Dh]; steer as forward()'s ("{site}.at" [B, 1]).
        Returns logits [B, V] float32. Equals forward() with start = slot to float rounding (the
        attention also sums over the masked free slots, which add zeros)."""
        x, cos, sin = self.embed(input_ids, positions)
        bias = torch.zeros(key_mask.shape, dtype=torch.float32, device=x.device).masked_fill(
            ~key_mask, -1.0e30).view(key_mask.size(0), 1, 1, key_mask.size(1))  # [B, 1, 1, capacity]
        bias = self.with_alibi(bias, key_mask)
        capture: Dict[str, Tensor] = {}
        captured: Dict[str, List[Tensor]] = {}
        i = 0
        for layer in self.layers:
            x = layer(x, cos, sin, bias, 0, slot, cache_k[i], cache_v[i], steer, capture, captured)
            i += 1
        return self.head(self.norm(x)).select(1, 0)

    def forward(self, input_ids: Tensor, positions: Tensor, key_mask: Tensor, start: int,
                cache_k: List[Tensor], cache_v: List[Tensor], logits_at: Tensor,
                steer: Dict[str, Tensor], capture: Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]:
        # input_ids [B, T] int64; positions [B, T] int64 rotary positions;
        # key_mask [B, S] bool, True for real tokens in slots [0, start+T);
        # cache_k/v: empty (no cache, start must be 0) or L tensors [B, Hkv, capacity, Dh];
        # logits_at [B, N] int64 positions of this chunk whose logits are returned.
        # Returns logits [B, N, V] float32 and captures {site: [B, C, L, U]}.
        t = input_ids.size(1)
        use_cache = self.check_cache(start, cache_k, cache_v)
        x, cos, sin = self.embed(input_ids, positions)
        bias = self.chunk_bias(key_mask, start, t, x)  # [B, 1, T, S]
        captured: Dict[str, List[Tensor]] = {}
        for name in capture.keys():
            captured[name] = []
        x = self.run_layers(0, x, cos, sin, bias, start, use_cache, cache_k, cache_v, steer, capture, captured)
        logits = self.logits_of(x, logits_at)  # [B, N, V]
        out: Dict[str, Tensor] = {}
        for name, parts in captured.items():
            if len(parts) != self.n_layers:
                raise RuntimeError("unknown capture site '" + name + "'")
            out[name] = torch.stack(parts, dim=2)  # [B, C, L, U]
        return logits, out

    @torch.jit.export
    def forward_from(self, first: int, hidden: Tensor, positions: Tensor, key_mask: Tensor, start: int,
                     cache_k: List[Tensor], cache_v: List[Tensor], logits_at: Tensor,
                     steer: Dict[str, Tensor]) -> Tensor:
        """forward() from layer `first` on, the layers below not run: hidden [B, T, d] is the residual
        stream entering layer `first` (what layer first - 1 puts out, as forward() captures it at
        site "residual"); first == L runs the final norm and head alone. The other arguments as
        forward()'s; steering keys of layers below `first` are not read, nor are their cache
        tensors (any tensor will do). Returns logits [B, N, V] float32, bit-identical to forward()'s
        for the same tokens when layers below `first` are not steered (and, batch-invariant, for any
        batch). What eval's layer sharing runs (docs/eval.md, "Layer sharing")."""
        t = hidden.size(1)
        if first < 0 or first > self.n_layers:
            raise RuntimeError("forward_from: first must be a layer in [0, L]")
        use_cache = self.check_cache(start, cache_k, cache_v)
        x = hidden
        cos, sin = self.rotary(positions, x)
        bias = self.chunk_bias(key_mask, start, t, x)  # [B, 1, T, S]
        capture: Dict[str, Tensor] = {}
        captured: Dict[str, List[Tensor]] = {}
        x = self.run_layers(first, x, cos, sin, bias, start, use_cache, cache_k, cache_v, steer, capture, captured)
        return self.logits_of(x, logits_at)
