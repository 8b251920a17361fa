"""The LlamaForCausalLM family: Llama, Mistral, Qwen2, Qwen3, Phi-3, Gemma, Gemma 2. One class
each; the family's shared reading of config.json lives in LlamaFamily.spec()."""
from typing import Any, Dict, Optional, Tuple

from .registry import Architecture, ExportError, check_output_layer, register
from .spec import ArchSpec, positive_ints, refuse, token_ids

ROPE_TYPES = {"default", "linear", "llama3"}


def read_rope(path: str, cfg: Dict[str, Any]) -> Tuple[float, Optional[dict]]:
    """(theta, scaling) from either the v4 keys or transformers v5's rope_parameters."""
    params = cfg.get("rope_parameters")
    if isinstance(params, dict):
        theta = params.get("rope_theta", cfg.get("rope_theta", 10000.0))
        scaling, key = dict(params), "rope_parameters"
    else:
        theta, scaling, key = cfg.get("rope_theta", 10000.0), cfg.get("rope_scaling"), "rope_scaling"
    if scaling is None:
        return float(theta), None
    if not isinstance(scaling, dict):
        refuse(path, key, "an object or null", scaling)
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind not in ROPE_TYPES:
        refuse(path, key + ".rope_type", "one of " + ", ".join(sorted(ROPE_TYPES)), kind)
    if kind == "default":
        return float(theta), None
    out = {"rope_type": kind, "factor": float(scaling["factor"])}
    if kind == "llama3":
        for k in ("low_freq_factor", "high_freq_factor", "original_max_position_embeddings"):
            if k not in scaling:
                refuse(path, key + "." + k, "a number (llama3 rope scaling)", None)
            out[k] = float(scaling[k])
    return float(theta), out


class LlamaFamily(Architecture):
    qkv_bias_default = False   # Qwen2: true
    sliding_window = False     # Mistral, Phi-3, Gemma 2: the window caps max_positions
    gemma = False              # (1 + w) norms, scaled embeddings, GeGLU, tied embeddings by default

    def check_activation(self, path: str, cfg: Dict[str, Any]) -> None:
        if cfg.get("hidden_act", "silu") != "silu":
            refuse(path, "hidden_act", '"silu"', cfg.get("hidden_act"))

    def extra(self, cfg: Dict[str, Any], head_dim: int) -> Dict[str, Any]:
        """ArchSpec fields particular to the architecture."""
        return {}

    def spec(self, path: str, cfg: Dict[str, Any]) -> ArchSpec:
        self.check_activation(path, cfg)
        if cfg.get("quantization_config") is not None:
            refuse(path, "quantization_config", "absent (quantized checkpoints are not supported)",
                   cfg["quantization_config"].get("quant_method", "?"))
        positive_ints(path, cfg, ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                                  "vocab_size"))
        n_heads = cfg["num_attention_heads"]
        n_kv = cfg.get("num_key_value_heads") or n_heads
        if n_heads % n_kv != 0:
            refuse(path, "num_key_value_heads", f"a divisor of num_attention_heads={n_heads}", n_kv)
        head_dim = cfg.get("head_dim") or cfg["hidden_size"] // n_heads
        if head_dim % 2 != 0:
            refuse(path, "head_dim", "an even number", head_dim)
        theta, scaling = read_rope(path, cfg)
        max_pos = int(cfg.get("max_position_embeddings", 2048))
        window = cfg.get("sliding_window") if self.sliding_window else None
        if window:
            max_pos = min(max_pos, int(window))  # beyond the window the full-attention module would differ
        found = cfg.get("architectures") or []
        fields = dict(
            architecture=self.name, hf_architecture=(found or sorted(self.hf_classes))[0],
            n_layers=cfg["num_hidden_layers"], n_heads=n_heads, n_kv_heads=n_kv, head_dim=head_dim,
            d_model=cfg["hidden_size"], d_ffn=cfg["intermediate_size"], vocab_size=cfg["vocab_size"],
            max_positions=max_pos, norm="rms", norm_eps=float(cfg.get("rms_norm_eps", 1e-6)),
            positions="rope", rope_theta=theta, rope_scaling=scaling,
            tied_embeddings=bool(cfg.get("tie_word_embeddings", self.gemma)),
            qkv_bias=bool(cfg.get("attention_bias", self.qkv_bias_default)),
            o_bias=bool(cfg.get("attention_bias", False)), mlp_bias=bool(cfg.get("mlp_bias", False)),
            attn_scale=float(head_dim) ** -0.5,
            source_dtype=cfg.get("torch_dtype", cfg.get("dtype")) or "float32",
            bos_token_id=token_ids(cfg.get("bos_token_id")), eos_token_id=token_ids(cfg.get("eos_token_id")),
            pad_token_id=token_ids(cfg.get("pad_token_id")))
        if self.gemma:
            fields.update(norm_offset=1.0, embed_scale=float(cfg["hidden_size"]) ** 0.5, activation="gelu_tanh")
        fields.update(self.extra(cfg, head_dim))
        return ArchSpec(**fields)


@register
class Llama(LlamaFamily):
    name, model_type, hf_classes = "llama", "llama", ("LlamaForCausalLM",)


@register
class Mistral(LlamaFamily):
    name, model_type, hf_classes = "mistral", "mistral", ("MistralForCausalLM",)
    sliding_window = True


class QwenBase(LlamaFamily):
    def spec(self, path: str, cfg: Dict[str, Any]) -> ArchSpec:
        if cfg.get("use_sliding_window", False):
            refuse(path, "use_sliding_window", "false", True)
        s = super().spec(path, cfg)
        s.o_bias = False  # attention_bias covers q/k/v only
        return s


@register
class Qwen2(QwenBase):
    name, model_type, hf_classes = "qwen2", "qwen2", ("Qwen2ForCausalLM",)
    qkv_bias_default = True


@register
class Qwen3(QwenBase):
    """+ RMSNorm on each head's q and k (q_norm, k_norm)."""
    name, model_type, hf_classes = "qwen3", "qwen3", ("Qwen3ForCausalLM",)

    def extra(self, cfg, head_dim):
        return {"qk_norm": True}


@register
class Phi3(LlamaFamily):
    """Fused qkv_proj and gate_up_proj, split at export."""
    name, model_type, hf_classes = "phi3", "phi3", ("Phi3ForCausalLM",)
    sliding_window = True

    def extra(self, cfg, head_dim):
        return {"fused_projections": True}

    def map_weights(self, sd, spec, hf_dir):
        out = super().map_weights(sd, spec, hf_dir)
        q, kv, f = spec.n_heads * spec.head_dim, spec.n_kv_heads * spec.head_dim, spec.d_ffn
        for key in [k for k in out if k.endswith("self_attn.qkv_proj.weight")]:  # [q; k; v] rows
            w = out.pop(key)
            if w.shape[0] != q + 2 * kv:
                raise ExportError(f"{hf_dir}: tensor '{key}': expected {q + 2 * kv} rows (q, k, v), found {w.shape[0]}")
            p = key[: -len("qkv_proj.weight")]
            out[p + "q_proj.weight"], out[p + "k_proj.weight"], out[p + "v_proj.weight"] = w.split([q, kv, kv])
        for key in [k for k in out if k.endswith("mlp.gate_up_proj.weight")]:  # [gate; up] rows
            w = out.pop(key)
            if w.shape[0] != 2 * f:
                raise ExportError(f"{hf_dir}: tensor '{key}': expected {2 * f} rows (gate, up), found {w.shape[0]}")
            p = key[: -len("gate_up_proj.weight")]
            out[p + "gate_proj.weight"], out[p + "up_proj.weight"] = w.split([f, f])
        return check_output_layer(out, spec, hf_dir)


class GemmaBase(LlamaFamily):
    gemma = True

    def check_activation(self, path, cfg):
        act_key = "hidden_activation" if cfg.get("hidden_activation") is not None else "hidden_act"
        if cfg.get(act_key, "gelu_pytorch_tanh") not in ("gelu_pytorch_tanh", "gelu") or (
                act_key == "hidden_activation" and cfg[act_key] != "gelu_pytorch_tanh"):
            refuse(path, act_key, '"gelu_pytorch_tanh"', cfg.get(act_key))


@register
class Gemma(GemmaBase):
    """(1 + w) norms, scaled embeddings, GeGLU."""
    name, model_type, hf_classes = "gemma", "gemma", ("GemmaForCausalLM",)


@register
class Gemma2(GemmaBase):
    """+ sandwich norms, soft-capping, query_pre_attn_scalar."""
    name, model_type, hf_classes = "gemma2", "gemma2", ("Gemma2ForCausalLM",)
    sliding_window = True

    def extra(self, cfg, head_dim):
        return {"sandwich_norms": True,
                "attn_scale": float(cfg.get("query_pre_attn_scalar") or head_dim) ** -0.5,
                "attn_softcap": float(cfg.get("attn_logit_softcapping") or 0.0),
                "final_softcap": float(cfg.get("final_logit_softcapping") or 0.0)}
