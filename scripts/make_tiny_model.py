#!/usr/bin/env python3
"""Make a seeded random Hugging Face-format Llama-family checkpoint for tests and benchmarks.

Writes config.json, weights (safetensors with HF tensor names; or sharded safetensors, or
pytorch_model.bin), tokenizer_config.json and a sentencepiece tokenizer.model trained with
spm_train on tests/data/tiny_corpus.txt. The same seed gives byte-identical weights.

  make_tiny_model.py --out DIR --seed 0                       # the tests' tiny Llama
  make_tiny_model.py --out DIR --arch qwen2                    # q/k/v biases, tied embeddings
  make_tiny_model.py --out DIR --preset llama-3.2-1b --dtype bfloat16   # benchmark shape
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

from sadi_export.weights import save_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "tests", "data", "tiny_corpus.txt")

PRESETS = {
    "tiny": dict(layers=3, d_model=64, heads=4, kv_heads=2, d_ffn=160, vocab_size=0),
    # Llama-3.2-1B's shape (random weights): for GPU benchmarks
    "llama-3.2-1b": dict(layers=16, d_model=2048, heads=32, kv_heads=8, d_ffn=8192, vocab_size=128256),
}


def train_tokenizer(out_dir: str, vocab: int, corpus: str = CORPUS) -> int:
    """Trains tokenizer.model with spm_train on `corpus` (deterministic: one thread, fixed input)."""
    spm_train = shutil.which("spm_train")
    with tempfile.TemporaryDirectory() as tmp:
        # The trainer spec stored in the model records these paths: keep them fixed so the same
        # seed gives byte-identical files wherever the script runs.
        prefix = os.path.join(tmp, "tok")
        args = ["--input=tiny_corpus.txt", "--model_prefix=tok", f"--vocab_size={vocab}",
                "--model_type=bpe", "--byte_fallback=true", "--character_coverage=1.0",
                "--split_digits=true", "--num_threads=1", "--unk_id=0", "--bos_id=1", "--eos_id=2",
                "--pad_id=-1", "--add_dummy_prefix=true", "--hard_vocab_limit=false", "--minloglevel=2",
                "--max_sentence_length=100000"]
        shutil.copyfile(corpus, os.path.join(tmp, "tiny_corpus.txt"))
        if spm_train:
            subprocess.run([spm_train] + args, check=True, stdout=subprocess.DEVNULL, cwd=tmp)
        else:
            import sentencepiece as spm
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                spm.SentencePieceTrainer.Train(" ".join(args))
            finally:
                os.chdir(cwd)
        shutil.copyfile(prefix + ".model", os.path.join(out_dir, "tokenizer.model"))
        with open(prefix + ".vocab", encoding="utf-8") as f:
            return sum(1 for _ in f)


LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")


def byte_chars() -> list:
    """GPT-2's printable stand-in character for each byte."""
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def train_bpe_json(out_dir: str, n_merges: int, corpus: str = CORPUS) -> int:
    """Writes a Llama-3-style tokenizer.json (byte-level BPE, the Llama 3 split regex, special
    tokens) with merges learned here by plain pair counting on `corpus` (deterministic: ties go
    to the lexicographically smallest pair). Words are split on spaces, a simplification of the
    regex that only affects which merges are learned. Returns the vocabulary size."""
    chars = byte_chars()
    text = open(corpus, encoding="utf-8").read()
    words = {}
    for w in text.replace("\n", " ").split(" "):
        if w:
            key = tuple(chars[b] for b in (" " + w).encode("utf-8"))
            words[key] = words.get(key, 0) + 1
    vocab = {c: i for i, c in enumerate(chars)}
    merges = []
    for _ in range(n_merges):
        counts = {}
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + n
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(list(best))
        vocab.setdefault(best[0] + best[1], len(vocab))
        merged = {}
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + n
        words = merged
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    added = [{"id": len(vocab) + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, s in enumerate(specials)]
    tj = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_SPLIT}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": specials[0], "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [], "special_tokens": {specials[0]: {"id": specials[0], "ids": [added[0]["id"]],
                                                                         "tokens": [specials[0]]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                  "vocab": vocab, "merges": merges},
    }
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    return len(vocab) + len(specials)


def make_weights(cfg: dict, seed: int, dtype: torch.dtype, arch: str) -> dict:
    g = torch.Generator().manual_seed(seed)
    d, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    h, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    dh = cfg.get("head_dim") or d // h

    def lin(n_out, n_in):
        return torch.randn(n_out, n_in, generator=g) / n_in ** 0.5

    def norm(n):  # Gemma stores the scale as (1 + weight)
        return (0.0 if arch.startswith("gemma") else 1.0) + 0.1 * torch.randn(n, generator=g)

    w = {"model.embed_tokens.weight": torch.randn(v, d, generator=g)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm(d)
        w[p + "self_attn.q_proj.weight"] = lin(h * dh, d)
        w[p + "self_attn.k_proj.weight"] = lin(kv * dh, d)
        w[p + "self_attn.v_proj.weight"] = lin(kv * dh, d)
        w[p + "self_attn.o_proj.weight"] = lin(d, h * dh)
        if arch == "qwen2":
            for n, size in (("q", h * dh), ("k", kv * dh), ("v", kv * dh)):
                w[p + f"self_attn.{n}_proj.bias"] = 0.1 * torch.randn(size, generator=g)
        if arch == "qwen3":
            w[p + "self_attn.q_norm.weight"] = norm(dh)
            w[p + "self_attn.k_norm.weight"] = norm(dh)
        w[p + "post_attention_layernorm.weight"] = norm(d)
        if arch == "gemma2":
            w[p + "pre_feedforward_layernorm.weight"] = norm(d)
            w[p + "post_feedforward_layernorm.weight"] = norm(d)
        w[p + "mlp.gate_proj.weight"] = lin(f, d)
        w[p + "mlp.up_proj.weight"] = lin(f, d)
        w[p + "mlp.down_proj.weight"] = lin(d, f)
    w["model.norm.weight"] = norm(d)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = lin(v, d)
    if arch == "phi3":  # Phi-3 stores [q; k; v] and [gate; up] fused
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            w[p + "self_attn.qkv_proj.weight"] = torch.cat([w.pop(p + f"self_attn.{n}_proj.weight") for n in "qkv"])
            w[p + "mlp.gate_up_proj.weight"] = torch.cat([w.pop(p + "mlp.gate_proj.weight"), w.pop(p + "mlp.up_proj.weight")])
    return {k: t.to(dtype) for k, t in w.items()}


def make_gpt2_weights(cfg: dict, seed: int, dtype: torch.dtype) -> dict:
    """GPT-2 names and Conv1D layout ([in, out]), biases everywhere, tied embeddings."""
    g = torch.Generator().manual_seed(seed)
    d, f, v, n = cfg["n_embd"], cfg["n_inner"], cfg["vocab_size"], cfg["n_positions"]

    def conv(n_in, n_out):
        return torch.randn(n_in, n_out, generator=g) / n_in ** 0.5

    def small(k):
        return 0.1 * torch.randn(k, generator=g)

    w = {"transformer.wte.weight": torch.randn(v, d, generator=g), "transformer.wpe.weight": 0.5 * torch.randn(n, d, generator=g)}
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        for ln in ("ln_1", "ln_2"):
            w[p + ln + ".weight"] = 1.0 + small(d)
            w[p + ln + ".bias"] = small(d)
        w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"] = conv(d, 3 * d), small(3 * d)
        w[p + "attn.c_proj.weight"], w[p + "attn.c_proj.bias"] = conv(d, d), small(d)
        w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"] = conv(d, f), small(f)
        w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"] = conv(f, d), small(d)
    w["transformer.ln_f.weight"], w["transformer.ln_f.bias"] = 1.0 + small(d), small(d)
    return {k: t.to(dtype) for k, t in w.items()}


def make_bloom_weights(cfg: dict, seed: int, dtype: torch.dtype) -> dict:
    """BLOOM names: fused query_key_value with rows [head][q|k|v][Dh], biases, LayerNorms."""
    g = torch.Generator().manual_seed(seed)
    d, v = cfg["hidden_size"], cfg["vocab_size"]

    def lin(n_out, n_in):
        return torch.randn(n_out, n_in, generator=g) / n_in ** 0.5

    def small(k):
        return 0.1 * torch.randn(k, generator=g)

    w = {"transformer.word_embeddings.weight": torch.randn(v, d, generator=g),
         "transformer.word_embeddings_layernorm.weight": 1.0 + small(d),
         "transformer.word_embeddings_layernorm.bias": small(d)}
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        for ln in ("input_layernorm", "post_attention_layernorm"):
            w[p + ln + ".weight"], w[p + ln + ".bias"] = 1.0 + small(d), small(d)
        w[p + "self_attention.query_key_value.weight"], w[p + "self_attention.query_key_value.bias"] = lin(3 * d, d), small(3 * d)
        w[p + "self_attention.dense.weight"], w[p + "self_attention.dense.bias"] = lin(d, d), small(d)
        w[p + "mlp.dense_h_to_4h.weight"], w[p + "mlp.dense_h_to_4h.bias"] = lin(4 * d, d), small(4 * d)
        w[p + "mlp.dense_4h_to_h.weight"], w[p + "mlp.dense_4h_to_h.bias"] = lin(d, 4 * d), small(d)
    w["transformer.ln_f.weight"], w["transformer.ln_f.bias"] = 1.0 + small(d), small(d)
    return {k: t.to(dtype) for k, t in w.items()}


def write_weights(weights: dict, out: str, fmt: str) -> None:
    if fmt == "safetensors":
        save_safetensors(weights, os.path.join(out, "model.safetensors"), {"format": "pt"})
    elif fmt == "sharded":
        names = sorted(weights)
        half = len(names) // 2
        shards = {"model-00001-of-00002.safetensors": names[:half],
                  "model-00002-of-00002.safetensors": names[half:]}
        weight_map = {}
        for fname, keys in shards.items():
            save_safetensors({k: weights[k] for k in keys}, os.path.join(out, fname), {"format": "pt"})
            weight_map.update({k: fname for k in keys})
        with open(os.path.join(out, "model.safetensors.index.json"), "w") as fh:
            json.dump({"metadata": {}, "weight_map": weight_map}, fh, indent=2)
    elif fmt == "bin":
        torch.save(weights, os.path.join(out, "pytorch_model.bin"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--arch", choices=["llama", "mistral", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gpt2", "bloom"],
                    default="llama")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    ap.add_argument("--layers", type=int)
    ap.add_argument("--d-model", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--kv-heads", type=int)
    ap.add_argument("--d-ffn", type=int)
    ap.add_argument("--vocab-size", type=int, help="config vocab (>= the tokenizer's; default: the tokenizer's)")
    ap.add_argument("--tokenizer-vocab", type=int, default=512)
    ap.add_argument("--tokenizer", choices=["sentencepiece", "json"], default="sentencepiece",
                    help="tokenizer.model (sentencepiece) or a Llama-3-style byte-level BPE tokenizer.json")
    ap.add_argument("--max-positions", type=int, default=256)
    ap.add_argument("--tie", choices=["auto", "yes", "no"], default="auto",
                    help="tie_word_embeddings (auto: yes for qwen2 and the 1B preset)")
    ap.add_argument("--rope-scaling", choices=["none", "llama3", "linear"], default="none")
    ap.add_argument("--format", choices=["safetensors", "sharded", "bin"], default="safetensors")
    ap.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32")
    a = ap.parse_args()
    p = dict(PRESETS[a.preset])
    for k in ("layers", "d_model", "heads", "kv_heads", "d_ffn", "vocab_size"):
        if getattr(a, k) is not None:
            p[k] = getattr(a, k)
    os.makedirs(a.out, exist_ok=True)
    if a.tokenizer == "json":
        tok_vocab = train_bpe_json(a.out, a.tokenizer_vocab - 256)
    else:
        tok_vocab = train_tokenizer(a.out, a.tokenizer_vocab)
    vocab = p["vocab_size"] or tok_vocab
    if vocab < tok_vocab:
        print(f"make_tiny_model: --vocab-size {vocab} is below the tokenizer's {tok_vocab}", file=sys.stderr)
        return 1
    tie = (a.arch in ("qwen2", "gemma", "gemma2") or a.preset != "tiny") if a.tie == "auto" else a.tie == "yes"
    cfg = {
        "architectures": [{"qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM", "phi3": "Phi3ForCausalLM",
                           "gemma": "GemmaForCausalLM", "gemma2": "Gemma2ForCausalLM",
                           "mistral": "MistralForCausalLM"}.get(a.arch, "LlamaForCausalLM")],
        "model_type": a.arch,
        "hidden_size": p["d_model"], "intermediate_size": p["d_ffn"],
        "num_hidden_layers": p["layers"], "num_attention_heads": p["heads"],
        "num_key_value_heads": p["kv_heads"], "vocab_size": vocab,
        "max_position_embeddings": a.max_positions, "rms_norm_eps": 1e-5,
        "rope_theta": 1000000.0 if a.arch.startswith("qwen") else 10000.0, "hidden_act": "silu",
        "tie_word_embeddings": tie,
        "bos_token_id": tok_vocab - 3 if a.tokenizer == "json" else 1,
        "eos_token_id": tok_vocab - 2 if a.tokenizer == "json" else 2,
        "torch_dtype": a.dtype, "attention_bias": a.arch == "qwen2", "initializer_range": 0.02,
    }
    if a.arch == "mistral":
        cfg["sliding_window"] = a.max_positions  # Mistral 7B v0.1: 4096 of 32768 positions
    if a.arch == "qwen3":
        cfg["head_dim"] = p["d_model"] // p["heads"]
    if a.arch == "phi3":
        cfg["sliding_window"] = a.max_positions - 1  # as Phi-3-mini-4k: window 2047 of 4096
        cfg["pad_token_id"] = vocab - 1  # transformers' Phi3Config default (32000) is past a tiny vocabulary
    if a.arch.startswith("gemma"):
        cfg["hidden_act"] = "gelu_pytorch_tanh"
        cfg["hidden_activation"] = "gelu_pytorch_tanh"
        cfg["head_dim"] = 2 * (p["d_model"] // p["heads"])  # Gemma's head_dim is not d_model / heads
    if a.arch == "gemma2":
        cfg.update(query_pre_attn_scalar=24, attn_logit_softcapping=5.0, final_logit_softcapping=8.0,
                   sliding_window=a.max_positions // 2)  # small caps, so they bite on random weights
    if a.rope_scaling == "llama3":
        cfg["rope_scaling"] = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 64}
    elif a.rope_scaling == "linear":
        cfg["rope_scaling"] = {"type": "linear", "factor": 2.0}
    with open(os.path.join(a.out, "config.json"), "w") as fh:
        json.dump(cfg, fh, indent=2)
    if a.tokenizer == "json":  # Llama 3 style: BOS comes from tokenizer.json's post-processor
        with open(os.path.join(a.out, "tokenizer_config.json"), "w") as fh:
            json.dump({"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
                       "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": a.max_positions}, fh, indent=2)
    else:
        with open(os.path.join(a.out, "tokenizer_config.json"), "w") as fh:
            json.dump({"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                       "unk_token": "<unk>", "tokenizer_class": "LlamaTokenizer",
                       "model_max_length": a.max_positions}, fh, indent=2)
    dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[a.dtype]
    if a.arch == "gpt2":  # GPT-2's own config keys replace the Llama ones
        cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": p["d_model"],
               "n_layer": p["layers"], "n_head": p["heads"], "n_inner": p["d_ffn"], "n_positions": a.max_positions,
               "vocab_size": vocab, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
               "bos_token_id": cfg["bos_token_id"], "eos_token_id": cfg["eos_token_id"], "torch_dtype": a.dtype}
        with open(os.path.join(a.out, "config.json"), "w") as fh:
            json.dump(cfg, fh, indent=2)
        write_weights(make_gpt2_weights(cfg, a.seed, dtype), a.out, a.format)
    elif a.arch == "bloom":
        cfg = {"architectures": ["BloomForCausalLM"], "model_type": "bloom", "hidden_size": p["d_model"],
               "n_layer": p["layers"], "n_head": p["heads"], "vocab_size": vocab, "layer_norm_epsilon": 1e-5,
               "apply_residual_connection_post_layernorm": False, "seq_length": a.max_positions,
               "bos_token_id": cfg["bos_token_id"], "eos_token_id": cfg["eos_token_id"], "torch_dtype": a.dtype}
        with open(os.path.join(a.out, "config.json"), "w") as fh:
            json.dump(cfg, fh, indent=2)
        write_weights(make_bloom_weights(cfg, a.seed, dtype), a.out, a.format)
    else:
        write_weights(make_weights(cfg, a.seed, dtype, a.arch), a.out, a.format)
    print(f"make_tiny_model: wrote {a.out} ({a.arch}, {p['layers']} layers, d={p['d_model']}, "
          f"vocab={vocab}, seed={a.seed}, {a.format})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
