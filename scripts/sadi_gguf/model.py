"""GGUF metadata -> config.json, and GGUF tensors -> Hugging Face state-dict names, for the
architectures the importer knows: llama (Llama 1-3, Mistral, SmolLM) and qwen2."""
from typing import Dict, Tuple

import torch

from . import GgufError
from .reader import GgufFile

# general.architecture -> (HF architecture, model_type, whether llama.cpp permuted Q/K rows)
ARCHITECTURES = {"llama": ("LlamaForCausalLM", "llama", True),
                 "qwen2": ("Qwen2ForCausalLM", "qwen2", False)}

LAYER_TENSORS = {  # blk.N.<gguf name> -> model.layers.N.<HF name>
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight", "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight", "attn_output.weight": "self_attn.o_proj.weight",
    "attn_q.bias": "self_attn.q_proj.bias", "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.bias": "self_attn.v_proj.bias",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}
GLOBAL_TENSORS = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
                  "output.weight": "lm_head.weight"}


def architecture(g: GgufFile) -> str:
    arch = g.string("general.architecture")
    if arch not in ARCHITECTURES:
        raise GgufError(f"{g.path}: metadata 'general.architecture': expected one of "
                        f"{', '.join(sorted(ARCHITECTURES))}, found {arch!r}")
    return arch


def config(g: GgufFile, special: Dict[str, int]) -> dict:
    """config.json for transformers from the `<arch>.*` metadata."""
    arch = architecture(g)
    hf_arch, model_type, _ = ARCHITECTURES[arch]
    k = lambda name: f"{arch}.{name}"  # noqa: E731
    d = g.integer(k("embedding_length"))
    heads = g.integer(k("attention.head_count"))
    kv = g.integer(k("attention.head_count_kv"), heads)
    if heads <= 0 or d % heads:
        raise GgufError(f"{g.path}: metadata '{k('attention.head_count')}': {heads} does not divide "
                        f"'{k('embedding_length')}' {d}")
    head_dim = g.integer(k("attention.key_length"), d // heads)
    rope_dim = g.integer(k("rope.dimension_count"), head_dim)
    if rope_dim != head_dim:
        raise GgufError(f"{g.path}: metadata '{k('rope.dimension_count')}': expected {head_dim} (rotary "
                        f"embedding over the whole head), found {rope_dim}")
    scaling = g.string(k("rope.scaling.type"), "none")
    if scaling != "none" or "rope_freqs.weight" in g.tensors:
        raise GgufError(f"{g.path}: metadata '{k('rope.scaling.type')}': expected 'none' (rope scaling is "
                        f"not imported), found {scaling!r}"
                        + (" and a rope_freqs.weight tensor" if "rope_freqs.weight" in g.tensors else ""))
    n_vocab = len(g.strings("tokenizer.ggml.tokens"))
    cfg = {
        "architectures": [hf_arch], "model_type": model_type,
        "hidden_size": d, "intermediate_size": g.integer(k("feed_forward_length")),
        "num_hidden_layers": g.integer(k("block_count")),
        "num_attention_heads": heads, "num_key_value_heads": kv, "head_dim": head_dim,
        "vocab_size": g.integer(k("vocab_size"), n_vocab),
        "max_position_embeddings": g.integer(k("context_length")),
        "rms_norm_eps": g.number(k("attention.layer_norm_rms_epsilon")),
        "rope_theta": g.number(k("rope.freq_base"), 10000.0),
        "hidden_act": "silu", "tie_word_embeddings": "output.weight" not in g.tensors,
        "torch_dtype": "float32",
        **{f"{name}_token_id": tid for name, tid in special.items() if name in ("bos", "eos", "pad")},
    }
    if arch == "llama":
        cfg.update(attention_bias=False, mlp_bias=False)
    else:
        cfg.update(use_sliding_window=False)
    return cfg


def unpermute(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """Undoes llama.cpp's convert_hf_to_gguf permutation of Q/K rows (it groups each head's rotary
    halves pairwise, as its rope kernel expects): [n_head, hd/2, 2, in] -> [n_head, 2, hd/2, in]."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape).contiguous()


def hf_name(g: GgufFile, name: str) -> str:
    if name in GLOBAL_TENSORS:
        return GLOBAL_TENSORS[name]
    parts = name.split(".", 2)
    if len(parts) == 3 and parts[0] == "blk" and parts[1].isdigit() and parts[2] in LAYER_TENSORS:
        return f"model.layers.{parts[1]}.{LAYER_TENSORS[parts[2]]}"
    raise GgufError(f"{g.path}: tensor '{name}' is not part of a {architecture(g)} model the importer knows")


def expected_shapes(g: GgufFile, cfg: dict) -> Dict[str, Tuple[Tuple[int, ...], str]]:
    """GGUF tensor name -> (PyTorch shape, the metadata keys it follows) of every tensor the
    architecture needs; output.weight (untied head) and biases are checked when present."""
    arch = architecture(g)
    d, ffn, vocab = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    q, kv = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
    k = lambda name: f"'{arch}.{name}'"  # noqa: E731
    emb, heads, kvh, ff = k("embedding_length"), k("attention.head_count"), k("attention.head_count_kv"), \
        k("feed_forward_length")
    voc = "the vocabulary size"
    out = {"token_embd.weight": ((vocab, d), f"{voc} {vocab}, {emb} {d}"), "output_norm.weight": ((d,), f"{emb} {d}")}
    for i in range(cfg["num_hidden_layers"]):
        p = f"blk.{i}."
        out.update({
            p + "attn_norm.weight": ((d,), f"{emb} {d}"), p + "ffn_norm.weight": ((d,), f"{emb} {d}"),
            p + "attn_q.weight": ((q, d), f"{heads}, {emb} {d}"), p + "attn_k.weight": ((kv, d), f"{kvh}, {emb} {d}"),
            p + "attn_v.weight": ((kv, d), f"{kvh}, {emb} {d}"), p + "attn_output.weight": ((d, q), f"{emb} {d}, {heads}"),
            p + "ffn_gate.weight": ((ffn, d), f"{ff} {ffn}, {emb} {d}"), p + "ffn_up.weight": ((ffn, d), f"{ff} {ffn}, {emb} {d}"),
            p + "ffn_down.weight": ((d, ffn), f"{emb} {d}, {ff} {ffn}")})
        if arch == "qwen2":  # Qwen2's q/k/v projections have biases
            out.update({p + "attn_q.bias": ((q,), heads), p + "attn_k.bias": ((kv,), kvh), p + "attn_v.bias": ((kv,), kvh)})
    return out


def check_tensors(g: GgufFile, cfg: dict) -> None:
    """Every tensor the metadata implies is present with the shape it implies, and no tensor
    belongs to a layer beyond the block count; checked before anything is dequantized."""
    expected = expected_shapes(g, cfg)
    optional = {"output.weight": ((cfg["vocab_size"], cfg["hidden_size"]), "the vocabulary size, "
                                  f"'{architecture(g)}.embedding_length'")}
    n_layers = cfg["num_hidden_layers"]
    for name, t in g.tensors.items():
        parts = name.split(".")
        if parts[0] == "blk" and len(parts) > 2 and parts[1].isdigit() and int(parts[1]) >= n_layers:
            raise GgufError(f"{g.path}: tensor '{name}': layer {parts[1]} is beyond the metadata's "
                            f"'{architecture(g)}.block_count' {n_layers}")
        hf_name(g, name)  # a name the importer does not know is refused
        want = expected.get(name) or optional.get(name)
        shape = tuple(int(x) for x in reversed(t.shape))  # GGML lists the innermost dimension first
        if want is not None and shape != want[0]:
            raise GgufError(f"{g.path}: tensor '{name}': shape {list(shape)} disagrees with the metadata "
                            f"({want[1]}: expected {list(want[0])})")
    missing = [name for name in expected if name not in g.tensors]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise GgufError(f"{g.path}: tensor '{missing[0]}' missing{more}: the metadata "
                        f"('{architecture(g)}.block_count' {n_layers}) needs it")


def state_dict(g: GgufFile, cfg: dict) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """(HF name -> float32 tensor, HF name -> the GGUF tensor type it came from)."""
    _, _, permuted = ARCHITECTURES[architecture(g)]
    check_tensors(g, cfg)
    out, types = {}, {}
    for name, t in g.tensors.items():
        key = hf_name(g, name)
        w = g.tensor(name)
        if permuted and name.endswith(("attn_q.weight", "attn_k.weight")):
            heads = cfg["num_attention_heads"] if "attn_q" in name else cfg["num_key_value_heads"]
            if w.shape[0] % (2 * heads):
                raise GgufError(f"{g.path}: tensor '{name}': {w.shape[0]} rows do not split into {heads} heads")
            w = unpermute(w, heads)
        out[key], types[key] = w, t.tensor_type.name
    return out, types
