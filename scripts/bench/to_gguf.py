#!/usr/bin/env python3
"""Converts a Hugging Face Llama checkpoint (as scripts/make_tiny_model.py writes it: config.json,
safetensors, sentencepiece tokenizer.model) to a float32 GGUF file that llama.cpp loads, so that
llama.cpp can serve as sadi's benchmark peer and as an independent oracle (docs/benchmarks.md).

Written from the GGUF specification (version 3): little-endian header "GGUF", version, tensor and
key/value counts; typed key/values; tensor infos whose dimensions are listed fastest-first (a
PyTorch [rows, cols] matrix is ne = [cols, rows]); data aligned to 32 bytes.
llama.cpp applies rotary embeddings to interleaved pairs (x0, x1), (x2, x3), ... of each head,
Hugging Face to the two halves of each head (rotate_half): the q and k projection rows are
permuted per head from the halves layout to the interleaved one.

Usage: to_gguf.py --hf-dir HF_DIR --out MODEL.gguf
Needs torch and sentencepiece (.venv has both). Llama only (no biases).
"""
import argparse
import json
import os
import struct
import sys

import sentencepiece as spm
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sadi_export.weights import load_state_dict  # noqa: E402

ALIGN = 32
T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64 = 4, 5, 6, 7, 8, 9, 10
GGML_F32 = 0
# llama.cpp's token types
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def gguf_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key: str, vtype: int, value) -> bytes:
    out = gguf_string(key) + struct.pack("<I", vtype)
    if vtype == T_STRING:
        return out + gguf_string(value)
    if vtype == T_ARRAY:
        etype, items = value
        out += struct.pack("<IQ", etype, len(items))
        if etype == T_STRING:
            return out + b"".join(gguf_string(x) for x in items)
        fmt = {T_FLOAT32: "<f", T_INT32: "<i", T_UINT32: "<I"}[etype]
        return out + b"".join(struct.pack(fmt, x) for x in items)
    fmt = {T_UINT32: "<I", T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q"}[vtype]
    return out + struct.pack(fmt, value)


def halves_to_interleaved(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """[n_heads * Dh, d] rows of each head reordered from (first half, second half) pairs
    (i, i + Dh/2) to adjacent pairs (2i, 2i + 1)."""
    dh = w.shape[0] // n_heads
    return w.reshape(n_heads, 2, dh // 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


def vocab(tokenizer_model: str, n_vocab: int):
    sp = spm.SentencePieceProcessor(model_file=tokenizer_model)
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(float(sp.get_score(i)))
        if sp.is_unknown(i):
            types.append(UNKNOWN)
        elif sp.is_control(i):
            types.append(CONTROL)
        elif sp.is_byte(i):
            types.append(BYTE)
        elif sp.is_unused(i):
            types.append(UNUSED)
        else:
            types.append(NORMAL)
    for i in range(sp.get_piece_size(), n_vocab):  # a vocabulary padded beyond the tokenizer's
        tokens.append(f"[PAD{i}]")
        scores.append(0.0)
        types.append(UNUSED)
    return sp, tokens, scores, types


def convert(hf_dir: str, out: str) -> None:
    cfg = json.load(open(os.path.join(hf_dir, "config.json")))
    if cfg.get("model_type") != "llama":
        raise SystemExit(f"to_gguf: {hf_dir}/config.json: model_type {cfg.get('model_type')!r}: only llama is converted")
    if cfg.get("rope_scaling"):
        raise SystemExit(f"to_gguf: {hf_dir}/config.json: rope_scaling is not converted")
    sd = load_state_dict(hf_dir)
    n_layers, d = cfg["num_hidden_layers"], cfg["hidden_size"]
    n_heads = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads", n_heads)
    head_dim = cfg.get("head_dim", d // n_heads)
    n_vocab = cfg["vocab_size"]
    sp, tokens, scores, types = vocab(os.path.join(hf_dir, "tokenizer.model"), n_vocab)

    tensors = [("token_embd.weight", sd["model.embed_tokens.weight"])]
    for i in range(n_layers):
        p = f"model.layers.{i}."
        tensors += [
            (f"blk.{i}.attn_norm.weight", sd[p + "input_layernorm.weight"]),
            (f"blk.{i}.attn_q.weight", halves_to_interleaved(sd[p + "self_attn.q_proj.weight"], n_heads)),
            (f"blk.{i}.attn_k.weight", halves_to_interleaved(sd[p + "self_attn.k_proj.weight"], n_kv)),
            (f"blk.{i}.attn_v.weight", sd[p + "self_attn.v_proj.weight"]),
            (f"blk.{i}.attn_output.weight", sd[p + "self_attn.o_proj.weight"]),
            (f"blk.{i}.ffn_norm.weight", sd[p + "post_attention_layernorm.weight"]),
            (f"blk.{i}.ffn_gate.weight", sd[p + "mlp.gate_proj.weight"]),
            (f"blk.{i}.ffn_up.weight", sd[p + "mlp.up_proj.weight"]),
            (f"blk.{i}.ffn_down.weight", sd[p + "mlp.down_proj.weight"]),
        ]
    tensors.append(("output_norm.weight", sd["model.norm.weight"]))
    if "lm_head.weight" in sd and not cfg.get("tie_word_embeddings", False):
        tensors.append(("output.weight", sd["lm_head.weight"]))

    meta = [
        kv("general.architecture", T_STRING, "llama"),
        kv("general.name", T_STRING, os.path.basename(os.path.abspath(hf_dir))),
        kv("general.alignment", T_UINT32, ALIGN),
        kv("general.file_type", T_UINT32, 0),  # all float32
        kv("llama.context_length", T_UINT32, cfg.get("max_position_embeddings", 2048)),
        kv("llama.embedding_length", T_UINT32, d),
        kv("llama.block_count", T_UINT32, n_layers),
        kv("llama.feed_forward_length", T_UINT32, cfg["intermediate_size"]),
        kv("llama.attention.head_count", T_UINT32, n_heads),
        kv("llama.attention.head_count_kv", T_UINT32, n_kv),
        kv("llama.attention.key_length", T_UINT32, head_dim),
        kv("llama.attention.value_length", T_UINT32, head_dim),
        kv("llama.rope.dimension_count", T_UINT32, head_dim),
        kv("llama.rope.freq_base", T_FLOAT32, float(cfg.get("rope_theta", 10000.0))),
        kv("llama.attention.layer_norm_rms_epsilon", T_FLOAT32, float(cfg.get("rms_norm_eps", 1e-5))),
        kv("llama.vocab_size", T_UINT32, n_vocab),
        kv("tokenizer.ggml.model", T_STRING, "llama"),
        kv("tokenizer.ggml.tokens", T_ARRAY, (T_STRING, tokens)),
        kv("tokenizer.ggml.scores", T_ARRAY, (T_FLOAT32, scores)),
        kv("tokenizer.ggml.token_type", T_ARRAY, (T_INT32, types)),
        kv("tokenizer.ggml.bos_token_id", T_UINT32, sp.bos_id() if sp.bos_id() >= 0 else 1),
        kv("tokenizer.ggml.eos_token_id", T_UINT32, sp.eos_id() if sp.eos_id() >= 0 else 2),
        kv("tokenizer.ggml.unknown_token_id", T_UINT32, sp.unk_id() if sp.unk_id() >= 0 else 0),
        kv("tokenizer.ggml.add_bos_token", T_BOOL, True),
    ]
    infos, blobs, offset = [], [], 0
    for name, t in tensors:
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        dims = list(reversed(t.shape))  # fastest-first
        infos.append(gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", x) for x in dims)
                     + struct.pack("<IQ", GGML_F32, offset))
        pad = (-len(data)) % ALIGN
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)) + b"".join(meta) + b"".join(infos)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header + b"\0" * ((-len(header)) % ALIGN))
        for b in blobs:
            f.write(b)
    os.replace(tmp, out)
    print(f"to_gguf: wrote {out} ({len(tensors)} tensors, vocab {n_vocab}, float32)", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hf-dir", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    convert(a.hf_dir, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
