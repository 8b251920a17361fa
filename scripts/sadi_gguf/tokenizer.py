"""tokenizer.ggml.* -> tokenizer.json and tokenizer_config.json.

Byte-level BPE ("gpt2") is rebuilt here, with the pre-tokenizer Hugging Face's own tokenizer.json
uses for each llama.cpp pre-tokenizer kind (tokenizer.ggml.pre): SmolLM's single-digit split, Llama
3's and Qwen2's regexes, GPT-2's. SentencePiece vocabularies ("llama") go through transformers' own
GGUF conversion (its GGUFLlamaConverter). Both are checked against llama.cpp's tokenization of the
same GGUF (tests/python/test_gguf.py)."""
import json
import os
import shutil
import tempfile
from typing import Dict, List, Optional

from . import GgufError
from .reader import GgufFile

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")
TOKEN_TYPES = {1: "normal", 2: "unknown", 3: "control", 4: "user-defined", 5: "unused", 6: "byte"}


def byte_level(use_regex: bool) -> dict:
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": use_regex}


def split(regex: str) -> dict:
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}


# tokenizer.ggml.pre -> (normalizer, pre_tokenizer, ignore_merges), as the model's own tokenizer.json has them
DIGITS_THEN_GPT2 = {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True},
                                                          byte_level(True)]}
PRE_TOKENIZERS = {
    "smollm": (None, DIGITS_THEN_GPT2, False),
    "starcoder": (None, DIGITS_THEN_GPT2, False),  # llama.cpp reads SmolLM's, StarCoder's, Refact's alike
    "refact": (None, DIGITS_THEN_GPT2, False),
    "llama-bpe": (None, {"type": "Sequence", "pretokenizers": [split(LLAMA3_REGEX), byte_level(False)]}, True),
    "qwen2": ({"type": "NFC"}, {"type": "Sequence", "pretokenizers": [split(QWEN2_REGEX), byte_level(False)]},
              False),
    "gpt-2": (None, byte_level(True), False),
    "default": (None, byte_level(True), False),
}


SPECIAL_KEYS = {"bos": "bos_token_id", "eos": "eos_token_id", "pad": "padding_token_id",
                "unk": "unknown_token_id"}


def special_ids(g: GgufFile) -> Dict[str, int]:
    """bos/eos/pad/unk -> token id, each checked to lie in the vocabulary."""
    n = len(g.strings("tokenizer.ggml.tokens"))
    out = {}
    for name, key in SPECIAL_KEYS.items():
        if g.has(f"tokenizer.ggml.{key}"):
            tid = g.integer(f"tokenizer.ggml.{key}")
            if not 0 <= tid < n:
                raise GgufError(f"{g.path}: metadata 'tokenizer.ggml.{key}': {tid} is outside the "
                                f"vocabulary (0..{n - 1})")
            out[name] = tid
    return out


def vocabulary(g: GgufFile):
    tokens = g.strings("tokenizer.ggml.tokens")
    types = g.integers("tokenizer.ggml.token_type") if g.has("tokenizer.ggml.token_type") else [1] * len(tokens)
    if len(types) != len(tokens):
        raise GgufError(f"{g.path}: metadata 'tokenizer.ggml.token_type': {len(types)} entries for "
                        f"{len(tokens)} tokens")
    for tid, (name, ty) in enumerate(zip(tokens, types)):
        if ty not in TOKEN_TYPES:
            raise GgufError(f"{g.path}: metadata 'tokenizer.ggml.token_type'[{tid}]: expected 1..6, found {ty}")
    return tokens, types


def bpe_tokenizer_json(g: GgufFile) -> dict:
    pre = g.string("tokenizer.ggml.pre", "default")
    if pre not in PRE_TOKENIZERS:
        raise GgufError(f"{g.path}: metadata 'tokenizer.ggml.pre': expected one of "
                        f"{', '.join(sorted(PRE_TOKENIZERS))}, found {pre!r}")
    normalizer, pre_tokenizer, ignore_merges = PRE_TOKENIZERS[pre]
    tokens, types = vocabulary(g)
    vocab = {}
    for tid, tok in enumerate(tokens):
        vocab.setdefault(tok, tid)  # a duplicate string keeps its first id, as llama.cpp's map does
    merges: List[List[str]] = []
    for i, m in enumerate(g.strings("tokenizer.ggml.merges")):
        parts = m.split(" ")
        if len(parts) != 2 or parts[0] not in vocab or parts[1] not in vocab or parts[0] + parts[1] not in vocab:
            raise GgufError(f"{g.path}: metadata 'tokenizer.ggml.merges'[{i}]: expected two tokens of the "
                            f"vocabulary whose join is one too, found {m!r}")
        merges.append(parts)
    added = [{"id": tid, "content": tokens[tid], "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": ty == 3}
             for tid, ty in enumerate(types) if ty in (3, 4)]
    post: dict = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}
    ids = special_ids(g)
    if g.boolean("tokenizer.ggml.add_bos_token", False) and "bos" in ids:
        bos = tokens[ids["bos"]]
        post = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {bos: {"id": bos, "ids": [ids["bos"]], "tokens": [bos]}}}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": ignore_merges, "vocab": vocab, "merges": merges}}


def spm_tokenizer_json(g: GgufFile) -> dict:
    """SentencePiece ("llama") vocabularies: transformers' GGUF tokenizer conversion."""
    from transformers import AutoTokenizer
    tmp = tempfile.mkdtemp(prefix=".sadi-gguf-tok-")
    try:
        os.symlink(os.path.abspath(g.path), os.path.join(tmp, "model.gguf"))
        tok = AutoTokenizer.from_pretrained(tmp, gguf_file="model.gguf")
        return json.loads(tok.backend_tokenizer.to_str())
    except (ValueError, KeyError, OSError) as e:
        raise GgufError(f"{g.path}: transformers cannot convert its SentencePiece tokenizer: {e}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def tokenizer_json(g: GgufFile) -> dict:
    kind = g.string("tokenizer.ggml.model")
    if kind == "gpt2":
        return bpe_tokenizer_json(g)
    if kind == "llama":
        return spm_tokenizer_json(g)
    raise GgufError(f"{g.path}: metadata 'tokenizer.ggml.model': expected 'gpt2' (byte-level BPE) or "
                    f"'llama' (SentencePiece), found {kind!r}")


def tokenizer_config(g: GgufFile, max_length: Optional[int]) -> dict:
    tokens = g.strings("tokenizer.ggml.tokens")
    cfg: dict = {"tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False,
                 "add_bos_token": g.boolean("tokenizer.ggml.add_bos_token", False),
                 "add_eos_token": g.boolean("tokenizer.ggml.add_eos_token", False)}
    for name, tid in special_ids(g).items():
        cfg[f"{name}_token"] = tokens[tid]
    if max_length:
        cfg["model_max_length"] = max_length
    if g.has("tokenizer.chat_template"):
        cfg["chat_template"] = g.string("tokenizer.chat_template")
    return cfg
