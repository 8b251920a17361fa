"""GPT-2: LayerNorm, learned absolute positions, non-gated GELU MLP, fused Conv1D projections
(split and transposed at export), biases everywhere, tied embeddings."""
from typing import Dict

import torch

from .registry import Architecture, register
from .spec import ArchSpec, positive_ints, refuse, token_ids

GPT2_NAMES = {"ln_1": "input_layernorm", "ln_2": "post_attention_layernorm", "attn.c_proj": "self_attn.o_proj",
              "mlp.c_fc": "mlp.gate_proj", "mlp.c_proj": "mlp.down_proj"}


@register
class Gpt2(Architecture):
    name, model_type, hf_classes = "gpt2", "gpt2", ("GPT2LMHeadModel",)

    def spec(self, path, cfg) -> ArchSpec:
        if cfg.get("activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
            refuse(path, "activation_function", '"gelu_new"', cfg.get("activation_function"))
        positive_ints(path, cfg, ("n_embd", "n_layer", "n_head", "vocab_size", "n_positions"))
        for key in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"):
            if cfg.get(key):
                refuse(path, key, "false", cfg[key])
        if cfg.get("scale_attn_weights", True) is not True:
            refuse(path, "scale_attn_weights", "true", cfg["scale_attn_weights"])
        d, h = cfg["n_embd"], cfg["n_head"]
        return ArchSpec(
            architecture=self.name, hf_architecture=(cfg.get("architectures") or ["GPT2LMHeadModel"])[0],
            n_layers=cfg["n_layer"], n_heads=h, n_kv_heads=h, head_dim=d // h, d_model=d,
            d_ffn=cfg.get("n_inner") or 4 * d, vocab_size=cfg["vocab_size"], max_positions=cfg["n_positions"],
            norm="layer", norm_eps=float(cfg.get("layer_norm_epsilon", 1e-5)), positions="learned",
            mlp="plain", activation="gelu_tanh", tied_embeddings=True,
            qkv_bias=True, o_bias=True, mlp_bias=True, source_dtype=cfg.get("torch_dtype") or "float32",
            bos_token_id=token_ids(cfg.get("bos_token_id")), eos_token_id=token_ids(cfg.get("eos_token_id")),
            pad_token_id=token_ids(cfg.get("pad_token_id")))

    def map_weights(self, sd: Dict[str, torch.Tensor], spec: ArchSpec, hf_dir: str) -> Dict[str, torch.Tensor]:
        """GPT-2 names and Conv1D layout ([in, out]) -> module names and Linear layout ([out, in])."""
        out = {}
        d = spec.d_model
        for name, t in sd.items():
            key = name[len("transformer."):] if name.startswith("transformer.") else name
            if key.split(".")[-2:] in (["attn", "bias"], ["attn", "masked_bias"]) or key == "lm_head.weight":
                continue  # causal-mask buffers of old checkpoints; the tied output layer
            if key in ("wte.weight", "wpe.weight", "ln_f.weight", "ln_f.bias"):
                out[{"wte": "embed_tokens", "wpe": "embed_positions", "ln_f": "norm"}[key.split(".")[0]]
                    + "." + key.split(".")[1]] = t
                continue
            parts = key.split(".")  # h, i, sub..., weight|bias
            if parts[0] != "h":
                out[key] = t  # unexpected: build_module names it
                continue
            layer, sub, kind = parts[1], ".".join(parts[2:-1]), parts[-1]
            prefix = f"layers.{layer}."
            if sub == "attn.c_attn":
                w = t.t() if kind == "weight" else t
                for n, part in zip("qkv", w.split(d, dim=0)):
                    out[prefix + f"self_attn.{n}_proj.{kind}"] = part.contiguous()
            elif sub in GPT2_NAMES:
                conv = kind == "weight" and sub.endswith(("c_proj", "c_fc"))
                out[prefix + GPT2_NAMES[sub] + "." + kind] = t.t().contiguous() if conv else t
            else:
                out[key] = t
        return out
