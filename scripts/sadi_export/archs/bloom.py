"""BLOOM / BLOOMZ: ALiBi instead of positions, LayerNorm after the embeddings, per-head
interleaved fused query_key_value (split at export), GELU MLP, biases, tied embeddings."""
from typing import Dict

import torch

from .registry import Architecture, register
from .spec import ArchSpec, refuse, token_ids

BLOOM_NAMES = {"input_layernorm": "input_layernorm", "post_attention_layernorm": "post_attention_layernorm",
               "self_attention.dense": "self_attn.o_proj", "mlp.dense_h_to_4h": "mlp.gate_proj",
               "mlp.dense_4h_to_h": "mlp.down_proj"}
BLOOM_TOP = {"word_embeddings.weight": "embed_tokens.weight", "word_embeddings_layernorm.weight": "embed_norm.weight",
             "word_embeddings_layernorm.bias": "embed_norm.bias", "ln_f.weight": "norm.weight", "ln_f.bias": "norm.bias"}


@register
class Bloom(Architecture):
    name, model_type, hf_classes = "bloom", "bloom", ("BloomForCausalLM",)

    def spec(self, path, cfg) -> ArchSpec:
        d = cfg.get("hidden_size", cfg.get("n_embed"))
        for key, value in (("hidden_size", d), ("n_layer", cfg.get("n_layer")), ("n_head", cfg.get("n_head")),
                           ("vocab_size", cfg.get("vocab_size"))):
            if not isinstance(value, int) or value <= 0:
                refuse(path, key, "a positive integer", value)
        if cfg.get("apply_residual_connection_post_layernorm"):
            refuse(path, "apply_residual_connection_post_layernorm", "false", True)
        h = cfg["n_head"]
        return ArchSpec(
            architecture=self.name, hf_architecture=(cfg.get("architectures") or ["BloomForCausalLM"])[0],
            n_layers=cfg["n_layer"], n_heads=h, n_kv_heads=h, head_dim=d // h, d_model=d, d_ffn=4 * d,
            vocab_size=cfg["vocab_size"], max_positions=int(cfg.get("seq_length") or 2048),
            norm="layer", norm_eps=float(cfg.get("layer_norm_epsilon", 1e-5)), positions="alibi",
            mlp="plain", activation="gelu_tanh", tied_embeddings=True, qkv_bias=True, o_bias=True, mlp_bias=True,
            embed_norm=True, source_dtype=cfg.get("torch_dtype") or "float32",
            bos_token_id=token_ids(cfg.get("bos_token_id")), eos_token_id=token_ids(cfg.get("eos_token_id")),
            pad_token_id=token_ids(cfg.get("pad_token_id")))

    def map_weights(self, sd: Dict[str, torch.Tensor], spec: ArchSpec, hf_dir: str) -> Dict[str, torch.Tensor]:
        """BLOOM names -> module names; query_key_value rows are [head][q|k|v][Dh] and are split."""
        out = {}
        h, dh = spec.n_heads, spec.head_dim
        for name, t in sd.items():
            key = name[len("transformer."):] if name.startswith("transformer.") else name
            if key == "lm_head.weight":
                continue  # tied
            if key in BLOOM_TOP:
                out[BLOOM_TOP[key]] = t
                continue
            parts = key.split(".")
            if parts[0] != "h":
                out[key] = t
                continue
            prefix, sub, kind = f"layers.{parts[1]}.", ".".join(parts[2:-1]), parts[-1]
            if sub == "self_attention.query_key_value":
                w = t.view(h, 3, dh, -1) if kind == "weight" else t.view(h, 3, dh)
                for i, n in enumerate("qkv"):
                    part = w[:, i]
                    out[prefix + f"self_attn.{n}_proj.{kind}"] = (part.reshape(h * dh, -1) if kind == "weight"
                                                                 else part.reshape(h * dh)).contiguous()
            elif sub in BLOOM_NAMES:
                out[prefix + BLOOM_NAMES[sub] + "." + kind] = t
            else:
                out[key] = t
        return out
