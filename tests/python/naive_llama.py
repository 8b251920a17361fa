"""An independent, deliberately plain Llama/Qwen2/Qwen3/Phi-3 forward pass on the raw HF state dict.

Written from the Hugging Face modeling code's math, one sequence at a time, no cache, no
batching, no shared code with scripts/sadi_export: the exporter's module is checked against it
(transformers itself is not installed on the CPU machines).

hooks: {site: fn(layer, value [T, U]) -> value} lets tests apply steering by hand.
"""
import math
from typing import Callable, Dict, List, Optional

import torch


GEMMA = False  # set per call by forward()


def _site(hooks, record, name, layer, v):
    """Applies the test's hook for a site, then records the (edited) value."""
    if name in hooks:
        v = hooks[name](layer, v)
    if record is not None and name in record:
        record[name].append(v.clone())
    return v


def _rms(x, w, eps):
    v = x.float().pow(2).mean(-1, keepdim=True)
    if GEMMA:  # Gemma: scale (1 + w), in float32
        return ((x.float() * torch.rsqrt(v + eps)) * (1.0 + w.float())).to(x.dtype)
    return w * (x.float() * torch.rsqrt(v + eps)).to(x.dtype)


def _inv_freq(cfg) -> torch.Tensor:
    dh = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    base = cfg.get("rope_theta", 10000.0)
    inv = [1.0 / (base ** (i / dh)) for i in range(0, dh, 2)]
    inv = torch.tensor(inv, dtype=torch.float64)
    sc = cfg.get("rope_scaling")
    if sc:
        kind = sc.get("rope_type", sc.get("type"))
        if kind == "linear":
            inv = inv / sc["factor"]
        elif kind == "llama3":
            f, lo, hi, old = sc["factor"], sc["low_freq_factor"], sc["high_freq_factor"], sc["original_max_position_embeddings"]
            out = []
            for fr in inv.tolist():
                wl = 2 * math.pi / fr
                if wl < old / hi:
                    out.append(fr)
                elif wl > old / lo:
                    out.append(fr / f)
                else:
                    s = (old / wl - lo) / (hi - lo)
                    out.append((1 - s) * fr / f + s * fr)
            inv = torch.tensor(out, dtype=torch.float64)
    return inv.float()


def forward(sd: Dict[str, torch.Tensor], cfg: dict, ids: List[int],
            hooks: Optional[Dict[str, Callable]] = None, record: Optional[Dict[str, list]] = None) -> torch.Tensor:
    """Returns logits [T, V] float32. record[site] gets one [T, U] tensor per layer."""
    global GEMMA
    if cfg.get("model_type") == "gpt2":
        return forward_gpt2(sd, cfg, ids, hooks, record)
    if cfg.get("model_type") == "bloom":
        return forward_bloom(sd, cfg, ids, hooks, record)
    hooks = hooks or {}
    sd = {k: v.float() for k, v in sd.items()}
    GEMMA = cfg.get("model_type") in ("gemma", "gemma2")
    gemma2 = cfg.get("model_type") == "gemma2"
    eps = cfg.get("rms_norm_eps", 1e-6)
    n_h = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_h
    dh = cfg.get("head_dim") or cfg["hidden_size"] // n_h
    t = len(ids)
    x = sd["model.embed_tokens.weight"][torch.tensor(ids)]
    if GEMMA:
        x = x * math.sqrt(cfg["hidden_size"])
    ang = torch.arange(t).float()[:, None] * _inv_freq(cfg)[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1)  # [T, Dh]
    sin = torch.cat([ang.sin(), ang.sin()], -1)

    def rope(v):  # [T, n, Dh]
        half = dh // 2
        rot = torch.cat([-v[..., half:], v[..., :half]], -1)
        return v * cos[:, None, :] + rot * sin[:, None, :]

    def lin(h, name):
        y = h @ sd[name + ".weight"].T
        return y + sd[name + ".bias"] if name + ".bias" in sd else y

    def site(name, layer, v):
        return _site(hooks, record, name, layer, v)

    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        if p + "self_attn.qkv_proj.weight" in sd:  # Phi-3: rows are q, then k, then v
            w = sd.pop(p + "self_attn.qkv_proj.weight")
            sd[p + "self_attn.q_proj.weight"] = w[:n_h * dh]
            sd[p + "self_attn.k_proj.weight"] = w[n_h * dh:(n_h + n_kv) * dh]
            sd[p + "self_attn.v_proj.weight"] = w[(n_h + n_kv) * dh:]
            w = sd.pop(p + "mlp.gate_up_proj.weight")
            half = w.shape[0] // 2
            sd[p + "mlp.gate_proj.weight"], sd[p + "mlp.up_proj.weight"] = w[:half], w[half:]
        h = _rms(x, sd[p + "input_layernorm.weight"], eps)
        q = lin(h, p + "self_attn.q_proj").view(t, n_h, dh)
        k = lin(h, p + "self_attn.k_proj").view(t, n_kv, dh)
        if p + "self_attn.q_norm.weight" in sd:  # Qwen3: per-head RMSNorm before the rotation
            q = _rms(q, sd[p + "self_attn.q_norm.weight"], eps)
            k = _rms(k, sd[p + "self_attn.k_norm.weight"], eps)
        q, k = rope(q), rope(k)
        v = lin(h, p + "self_attn.v_proj").view(t, n_kv, dh)
        heads = []
        causal = torch.ones(t, t).tril().bool()
        for hd in range(n_h):
            kv = hd // (n_h // n_kv)
            s = (q[:, hd] @ k[:, kv].T) / math.sqrt(cfg["query_pre_attn_scalar"] if gemma2 else dh)
            if gemma2 and cfg.get("attn_logit_softcapping"):
                c = cfg["attn_logit_softcapping"]
                s = c * torch.tanh(s / c)
            s = s.masked_fill(~causal, float("-inf"))
            heads.append(torch.softmax(s, -1) @ v[:, kv])
        o = site("head", layer, torch.cat(heads, -1))  # [T, H*Dh]
        a = lin(o, p + "self_attn.o_proj")
        if gemma2:  # sandwich: norm the attention output; pre/post norms around the MLP
            x = x + _rms(a, sd[p + "post_attention_layernorm.weight"], eps)
            h2 = _rms(x, sd[p + "pre_feedforward_layernorm.weight"], eps)
        else:
            x = x + a
            h2 = _rms(x, sd[p + "post_attention_layernorm.weight"], eps)
        gate = lin(h2, p + "mlp.gate_proj")
        act = torch.nn.functional.gelu(gate, approximate="tanh") if GEMMA else torch.nn.functional.silu(gate)
        g = site("neuron", layer, act)
        y = site("hidden", layer, lin(g * lin(h2, p + "mlp.up_proj"), p + "mlp.down_proj"))
        if gemma2:
            y = _rms(y, sd[p + "post_feedforward_layernorm.weight"], eps)
        x = site("residual", layer, x + y)
    hf = _rms(x, sd["model.norm.weight"], eps)
    head = sd.get("lm_head.weight", sd["model.embed_tokens.weight"])
    logits = hf @ head.T
    if gemma2 and cfg.get("final_logit_softcapping"):
        c = cfg["final_logit_softcapping"]
        logits = c * torch.tanh(logits / c)
    return logits


def forward_gpt2(sd: Dict[str, torch.Tensor], cfg: dict, ids: List[int],
                 hooks: Optional[Dict[str, Callable]] = None, record: Optional[Dict[str, list]] = None) -> torch.Tensor:
    """GPT-2 written from its modeling code: Conv1D weights [in, out], fused c_attn, LayerNorm,
    learned positions, gelu_new, tied output layer. Same sites as forward()."""
    hooks = hooks or {}
    sd = {(k[len("transformer."):] if k.startswith("transformer.") else k): v.float() for k, v in sd.items()}
    d, n_h = cfg["n_embd"], cfg["n_head"]
    dh, t, eps = d // n_h, len(ids), cfg.get("layer_norm_epsilon", 1e-5)

    def ln(x, name):
        return torch.nn.functional.layer_norm(x, (d,), sd[name + ".weight"], sd[name + ".bias"], eps)

    def conv(x, name):
        return x @ sd[name + ".weight"] + sd[name + ".bias"]

    def site(name, layer, v):
        return _site(hooks, record, name, layer, v)

    x = sd["wte.weight"][torch.tensor(ids)] + sd["wpe.weight"][torch.arange(t)]
    causal = torch.ones(t, t).tril().bool()
    for layer in range(cfg["n_layer"]):
        p = f"h.{layer}."
        qkv = conv(ln(x, p + "ln_1"), p + "attn.c_attn")
        q, k, v = qkv[:, :d], qkv[:, d:2 * d], qkv[:, 2 * d:]
        heads = []
        for hd in range(n_h):
            sl = slice(hd * dh, (hd + 1) * dh)
            s = (q[:, sl] @ k[:, sl].T) / math.sqrt(dh)
            heads.append(torch.softmax(s.masked_fill(~causal, float("-inf")), -1) @ v[:, sl])
        o = site("head", layer, torch.cat(heads, -1))
        x = x + conv(o, p + "attn.c_proj")
        g = site("neuron", layer, torch.nn.functional.gelu(conv(ln(x, p + "ln_2"), p + "mlp.c_fc"), approximate="tanh"))
        y = site("hidden", layer, conv(g, p + "mlp.c_proj"))
        x = site("residual", layer, x + y)
    return ln(x, "ln_f") @ sd["wte.weight"].T


def _alibi_slopes(n):
    def pow2(k):
        start = 2 ** (-2 ** -(math.log2(k) - 3))
        return [start * start ** i for i in range(k)]
    if math.log2(n).is_integer():
        return pow2(n)
    c = 2 ** math.floor(math.log2(n))
    return pow2(c) + pow2(2 * c)[0::2][: n - c]


def forward_bloom(sd: Dict[str, torch.Tensor], cfg: dict, ids: List[int],
                  hooks: Optional[Dict[str, Callable]] = None, record: Optional[Dict[str, list]] = None) -> torch.Tensor:
    """BLOOM written from its modeling code: embedding LayerNorm, ALiBi, query_key_value viewed as
    [T, H, 3, Dh], GELU (tanh) MLP, tied output layer. Same sites as forward()."""
    hooks = hooks or {}
    sd = {(k[len("transformer."):] if k.startswith("transformer.") else k): v.float() for k, v in sd.items()}
    d, n_h = cfg["hidden_size"], cfg["n_head"]
    dh, t, eps = d // n_h, len(ids), cfg.get("layer_norm_epsilon", 1e-5)
    slopes = torch.tensor(_alibi_slopes(n_h))

    def ln(x, name):
        return torch.nn.functional.layer_norm(x, (d,), sd[name + ".weight"], sd[name + ".bias"], eps)

    def lin(x, name):
        return x @ sd[name + ".weight"].T + sd[name + ".bias"]

    def site(name, layer, v):
        return _site(hooks, record, name, layer, v)

    x = ln(sd["word_embeddings.weight"][torch.tensor(ids)], "word_embeddings_layernorm")
    causal = torch.ones(t, t).tril().bool()
    for layer in range(cfg["n_layer"]):
        p = f"h.{layer}."
        fused = lin(ln(x, p + "input_layernorm"), p + "self_attention.query_key_value").view(t, n_h, 3, dh)
        heads = []
        for hd in range(n_h):
            q, k, v = fused[:, hd, 0], fused[:, hd, 1], fused[:, hd, 2]
            s = (q @ k.T) / math.sqrt(dh) + slopes[hd] * torch.arange(t).float()[None, :]
            heads.append(torch.softmax(s.masked_fill(~causal, float("-inf")), -1) @ v)
        o = site("head", layer, torch.cat(heads, -1))
        x = x + lin(o, p + "self_attention.dense")
        g = site("neuron", layer, torch.nn.functional.gelu(lin(ln(x, p + "post_attention_layernorm"),
                                                                p + "mlp.dense_h_to_4h"), approximate="tanh"))
        y = site("hidden", layer, lin(g, p + "mlp.dense_4h_to_h"))
        x = site("residual", layer, x + y)
    return ln(x, "ln_f") @ sd["word_embeddings.weight"].T
