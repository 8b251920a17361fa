"""Reads a Hugging Face config.json into the architecture dict the exporter and manifest use.

The LlamaForCausalLM family (Llama, Mistral, Qwen2, Qwen3, Phi-3, Gemma, Gemma 2), GPT-2 and BLOOM are accepted; anything else is refused with an error that
names the field, what was expected and what was found.
"""
import json
import os
from typing import Any, Dict, Optional

SUPPORTED = {
    # model_type: (architectures accepted, q/k/v bias default)
    "llama": ({"LlamaForCausalLM"}, False),
    "mistral": ({"MistralForCausalLM"}, False),
    "qwen2": ({"Qwen2ForCausalLM"}, True),
    "qwen3": ({"Qwen3ForCausalLM"}, False),  # + RMSNorm on each head's q and k (q_norm, k_norm)
    "phi3": ({"Phi3ForCausalLM"}, False),    # fused qkv_proj and gate_up_proj, split at export
    "gemma": ({"GemmaForCausalLM"}, False),  # (1 + w) norms, scaled embeddings, GeGLU
    "gemma2": ({"Gemma2ForCausalLM"}, False),  # + sandwich norms, soft-capping, query_pre_attn_scalar
}
ROPE_TYPES = {"default", "linear", "llama3"}


class ConfigError(ValueError):
    """A config.json the exporter cannot honour."""


def _refuse(path: str, key: str, expected: str, found: Any) -> None:
    raise ConfigError(f"{path}: unsupported value for '{key}': expected {expected}, found {json.dumps(found)}")


def _rope(path: str, cfg: Dict[str, Any]) -> (float, Optional[dict]):
    """Returns (theta, scaling) from either the v4 keys or transformers v5's rope_parameters."""
    params = cfg.get("rope_parameters")
    if isinstance(params, dict):
        theta = params.get("rope_theta", cfg.get("rope_theta", 10000.0))
        scaling = dict(params)
        key = "rope_parameters"
    else:
        theta = cfg.get("rope_theta", 10000.0)
        scaling = cfg.get("rope_scaling")
        key = "rope_scaling"
    if scaling is None:
        return float(theta), None
    if not isinstance(scaling, dict):
        _refuse(path, key, "an object or null", scaling)
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind not in ROPE_TYPES:
        _refuse(path, key + ".rope_type", "one of " + ", ".join(sorted(ROPE_TYPES)), kind)
    if kind == "default":
        return float(theta), None
    out = {"rope_type": kind, "factor": float(scaling["factor"])}
    if kind == "llama3":
        for k in ("low_freq_factor", "high_freq_factor", "original_max_position_embeddings"):
            if k not in scaling:
                _refuse(path, key + "." + k, "a number (llama3 rope scaling)", None)
            out[k] = float(scaling[k])
    return float(theta), out


def _token_ids(value: Any):
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, list) else [int(value)]


def _gpt2(path: str, cfg: Dict[str, Any]) -> Dict[str, Any]:
    """GPT-2: LayerNorm, learned absolute positions (no rotation), non-gated GELU MLP, fused
    Conv1D projections (split and transposed at export), biases everywhere, tied embeddings."""
    if cfg.get("activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
        _refuse(path, "activation_function", '"gelu_new"', cfg.get("activation_function"))
    for key in ("n_embd", "n_layer", "n_head", "vocab_size", "n_positions"):
        if not isinstance(cfg.get(key), int) or cfg[key] <= 0:
            _refuse(path, key, "a positive integer", cfg.get(key))
    for key in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"):
        if cfg.get(key):
            _refuse(path, key, "false", cfg[key])
    if cfg.get("scale_attn_weights", True) is not True:
        _refuse(path, "scale_attn_weights", "true", cfg["scale_attn_weights"])
    d, h = cfg["n_embd"], cfg["n_head"]
    return {
        "architecture": "gpt2", "hf_architecture": (cfg.get("architectures") or ["GPT2LMHeadModel"])[0],
        "n_layers": cfg["n_layer"], "n_heads": h, "n_kv_heads": h, "head_dim": d // h, "d_model": d,
        "d_ffn": cfg.get("n_inner") or 4 * d, "vocab_size": cfg["vocab_size"], "max_positions": cfg["n_positions"],
        "rms_norm_eps": float(cfg.get("layer_norm_epsilon", 1e-5)), "rope_theta": 0.0,
        "rope_scaling": {"rope_type": "absent", "factor": 1.0}, "tied_embeddings": True,
        "qkv_bias": True, "o_bias": True, "mlp_bias": True, "qk_norm": False,
        "layer_norm": True, "gated_mlp": False, "learned_positions": True, "gelu_tanh": True,
        "source_dtype": cfg.get("torch_dtype") or "float32",
        "bos_token_id": _token_ids(cfg.get("bos_token_id")), "eos_token_id": _token_ids(cfg.get("eos_token_id")),
        "pad_token_id": _token_ids(cfg.get("pad_token_id")),
    }


def _bloom(path: str, cfg: Dict[str, Any]) -> Dict[str, Any]:
    """BLOOM / BLOOMZ: ALiBi instead of positions, LayerNorm after the embeddings, per-head
    interleaved fused query_key_value (split at export), GELU MLP, biases, tied embeddings."""
    d = cfg.get("hidden_size", cfg.get("n_embed"))
    for key, value in (("hidden_size", d), ("n_layer", cfg.get("n_layer")), ("n_head", cfg.get("n_head")),
                       ("vocab_size", cfg.get("vocab_size"))):
        if not isinstance(value, int) or value <= 0:
            _refuse(path, key, "a positive integer", value)
    if cfg.get("apply_residual_connection_post_layernorm"):
        _refuse(path, "apply_residual_connection_post_layernorm", "false", True)
    h = cfg["n_head"]
    return {
        "architecture": "bloom", "hf_architecture": (cfg.get("architectures") or ["BloomForCausalLM"])[0],
        "n_layers": cfg["n_layer"], "n_heads": h, "n_kv_heads": h, "head_dim": d // h, "d_model": d,
        "d_ffn": 4 * d, "vocab_size": cfg["vocab_size"], "max_positions": int(cfg.get("seq_length") or 2048),
        "rms_norm_eps": float(cfg.get("layer_norm_epsilon", 1e-5)), "rope_theta": 0.0,
        "rope_scaling": {"rope_type": "absent", "factor": 1.0}, "tied_embeddings": True,
        "qkv_bias": True, "o_bias": True, "mlp_bias": True, "qk_norm": False,
        "layer_norm": True, "gated_mlp": False, "gelu_tanh": True, "alibi": True, "embed_norm": True,
        "source_dtype": cfg.get("torch_dtype") or "float32",
        "bos_token_id": _token_ids(cfg.get("bos_token_id")), "eos_token_id": _token_ids(cfg.get("eos_token_id")),
        "pad_token_id": _token_ids(cfg.get("pad_token_id")),
    }


def read_config(hf_dir: str) -> Dict[str, Any]:
    path = os.path.join(hf_dir, "config.json")
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: not found (expected a Hugging Face checkpoint directory)")
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: line {e.lineno}: malformed JSON: {e.msg}") from None
    model_type = cfg.get("model_type")
    if model_type == "gpt2" and (not cfg.get("architectures") or "GPT2LMHeadModel" in cfg["architectures"]):
        return _gpt2(path, cfg)
    if model_type == "bloom" and (not cfg.get("architectures") or "BloomForCausalLM" in cfg["architectures"]):
        return _bloom(path, cfg)
    if model_type not in SUPPORTED:
        _refuse(path, "model_type", "one of " + ", ".join(sorted(SUPPORTED)), model_type)
    archs, qkv_bias_default = SUPPORTED[model_type]
    found_archs = cfg.get("architectures") or []
    if found_archs and not set(found_archs) & archs:
        _refuse(path, "architectures", " or ".join(sorted(archs)), found_archs)
    gemma = model_type in ("gemma", "gemma2")
    if gemma:
        act_key = "hidden_activation" if cfg.get("hidden_activation") is not None else "hidden_act"
        if cfg.get(act_key, "gelu_pytorch_tanh") not in ("gelu_pytorch_tanh", "gelu") or (
                act_key == "hidden_activation" and cfg[act_key] != "gelu_pytorch_tanh"):
            _refuse(path, act_key, '"gelu_pytorch_tanh"', cfg.get(act_key))
    elif cfg.get("hidden_act", "silu") != "silu":
        _refuse(path, "hidden_act", '"silu"', cfg.get("hidden_act"))
    if cfg.get("quantization_config") is not None:
        _refuse(path, "quantization_config", "absent (quantized checkpoints are not supported)",
                cfg["quantization_config"].get("quant_method", "?"))
    if model_type in ("qwen2", "qwen3") and cfg.get("use_sliding_window", False):
        _refuse(path, "use_sliding_window", "false", True)
    for key in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size"):
        if not isinstance(cfg.get(key), int) or cfg[key] <= 0:
            _refuse(path, key, "a positive integer", cfg.get(key))
    n_heads = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_heads
    if n_heads % n_kv != 0:
        _refuse(path, "num_key_value_heads", f"a divisor of num_attention_heads={n_heads}", n_kv)
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // n_heads
    if head_dim % 2 != 0:
        _refuse(path, "head_dim", "an even number", head_dim)
    theta, scaling = _rope(path, cfg)
    max_pos = int(cfg.get("max_position_embeddings", 2048))
    window = cfg.get("sliding_window") if model_type in ("mistral", "phi3", "gemma2") else None
    if window:
        max_pos = min(max_pos, int(window))  # beyond the window the full-attention module would differ
    dtype = cfg.get("torch_dtype", cfg.get("dtype")) or "float32"
    return {
        "architecture": model_type,
        "hf_architecture": (found_archs or sorted(archs))[0],
        "n_layers": cfg["num_hidden_layers"],
        "n_heads": n_heads,
        "n_kv_heads": n_kv,
        "head_dim": head_dim,
        "d_model": cfg["hidden_size"],
        "d_ffn": cfg["intermediate_size"],
        "vocab_size": cfg["vocab_size"],
        "max_positions": max_pos,
        "rms_norm_eps": float(cfg.get("rms_norm_eps", 1e-6)),
        "rope_theta": theta,
        "rope_scaling": scaling,
        "tied_embeddings": bool(cfg.get("tie_word_embeddings", gemma)),
        "qkv_bias": bool(cfg.get("attention_bias", qkv_bias_default)),
        "o_bias": bool(cfg.get("attention_bias", False)) and model_type not in ("qwen2", "qwen3"),
        "qk_norm": model_type == "qwen3",
        # Gemma family; defaults give the Llama computation
        "norm_offset": 1.0 if gemma else 0.0,
        "embed_scale": float(cfg["hidden_size"]) ** 0.5 if gemma else 1.0,
        "gelu_tanh": gemma,
        "sandwich_norms": model_type == "gemma2",
        "attn_scale": float(cfg.get("query_pre_attn_scalar") or head_dim) ** -0.5 if model_type == "gemma2"
        else float(head_dim) ** -0.5,
        "attn_softcap": float(cfg.get("attn_logit_softcapping") or 0.0) if model_type == "gemma2" else 0.0,
        "final_softcap": float(cfg.get("final_logit_softcapping") or 0.0) if model_type == "gemma2" else 0.0,
        "fused_projections": model_type == "phi3",
        "mlp_bias": bool(cfg.get("mlp_bias", False)),
        "source_dtype": dtype,
        "bos_token_id": _token_ids(cfg.get("bos_token_id")),
        "eos_token_id": _token_ids(cfg.get("eos_token_id")),
        "pad_token_id": _token_ids(cfg.get("pad_token_id")),
    }
