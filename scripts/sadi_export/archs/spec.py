"""ArchSpec: everything the exporter and the exported module need to know about a checkpoint's
architecture, as typed fields (no stand-in values: a field that does not apply keeps its
neutral default, e.g. no rotation for learned positions). Filled by one Architecture class per
Hugging Face model class (archs/registry.py); read by modeling.py and the manifest writer."""
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


class ConfigError(ValueError):
    """A config.json the exporter cannot honour."""


def refuse(path: str, key: str, expected: str, found: Any) -> None:
    raise ConfigError(f"{path}: unsupported value for '{key}': expected {expected}, found {json.dumps(found)}")


def positive_ints(path: str, cfg: Dict[str, Any], keys) -> None:
    for key in keys:
        if not isinstance(cfg.get(key), int) or cfg[key] <= 0:
            refuse(path, key, "a positive integer", cfg.get(key))


def token_ids(value: Any) -> List[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, list) else [int(value)]


NORMS = ("rms", "layer")                   # RMSNorm | LayerNorm (with bias)
POSITIONS = ("rope", "learned", "alibi")   # rotary | learned absolute embeddings | ALiBi biases
MLPS = ("gated", "plain")                  # down(act(gate(x)) * up(x)) | down(act(fc(x)))
ACTIVATIONS = ("silu", "gelu_tanh")


@dataclass
class ArchSpec:
    architecture: str        # the registry's name, written to the manifest (llama, gpt2, ...)
    hf_architecture: str     # the Hugging Face class (LlamaForCausalLM, ...)
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    d_model: int
    d_ffn: int
    vocab_size: int
    max_positions: int
    norm: str = "rms"
    norm_eps: float = 1e-6
    norm_offset: float = 0.0          # Gemma: the norm multiplies by (1 + w)
    positions: str = "rope"
    rope_theta: float = 10000.0       # positions == "rope" only
    rope_scaling: Optional[dict] = None  # positions == "rope": None, linear or llama3 parameters
    mlp: str = "gated"
    activation: str = "silu"
    tied_embeddings: bool = False
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False             # Qwen3: RMSNorm of each head's q and k
    sandwich_norms: bool = False      # Gemma 2: norms after attention and MLP too
    attn_scale: float = 0.0           # 0: 1/sqrt(head_dim)
    attn_softcap: float = 0.0         # Gemma 2: scores = c * tanh(scores / c); 0: none
    final_softcap: float = 0.0        # Gemma 2, on the logits
    embed_scale: float = 1.0          # Gemma: sqrt(d_model)
    embed_norm: bool = False          # BLOOM: LayerNorm after the embeddings
    fused_projections: bool = False   # Phi-3: qkv_proj and gate_up_proj split at export
    source_dtype: str = "float32"
    bos_token_id: List[int] = field(default_factory=list)
    eos_token_id: List[int] = field(default_factory=list)
    pad_token_id: List[int] = field(default_factory=list)

    def __post_init__(self):
        for name, allowed in (("norm", NORMS), ("positions", POSITIONS), ("mlp", MLPS), ("activation", ACTIVATIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"ArchSpec.{name}: expected one of {', '.join(allowed)}, found {getattr(self, name)!r}")
        if self.positions != "rope" and (self.rope_scaling is not None):
            raise ValueError("ArchSpec.rope_scaling: only with positions 'rope'")

    def manifest_entries(self) -> dict:
        """The manifest's description of the computation (docs/model-directory.md)."""
        positions = {"kind": self.positions}
        if self.positions == "rope":
            positions["rope"] = {"theta": self.rope_theta, "scaling": self.rope_scaling}
        return {
            "norm": {"kind": self.norm, "eps": self.norm_eps, "offset": self.norm_offset},
            "positions": positions,
            "mlp": {"kind": self.mlp, "activation": self.activation},
        }
