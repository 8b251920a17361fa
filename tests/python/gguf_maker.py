"""Small synthetic GGUF files for the importer's input tests (tests/python/test_gguf_inputs.py),
written with the `gguf` package's GGUFWriter (llama.cpp's own writer, not sadi's code): a 2-layer
Llama with a byte-level BPE ("gpt2") vocabulary of the 256 byte symbols, two merges and an
end-of-text token. Each defect is made by a keyword: metadata overridden or dropped, a tensor
dropped, reshaped or stored as another type. Needs no download."""
import os
import sys
from typing import Dict, Optional, Set

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from make_tiny_model import byte_chars  # noqa: E402  GPT-2's byte stand-ins, as the tiny models use them

D, HEADS, KV_HEADS, FFN, LAYERS = 32, 4, 2, 64, 2
HEAD_DIM = D // HEADS


TOKENS = byte_chars() + ["Ġt", "Ġth", "<|endoftext|>"]
MERGES = ["Ġ t", "Ġt h"]
TYPES = [1] * (len(TOKENS) - 1) + [3]
EOS = len(TOKENS) - 1
TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def tensor_shapes() -> Dict[str, tuple]:
    """GGUF tensor name -> PyTorch shape ([out, in] for a weight)."""
    shapes = {"token_embd.weight": (len(TOKENS), D), "output_norm.weight": (D,)}
    for i in range(LAYERS):
        p = f"blk.{i}."
        shapes.update({p + "attn_norm.weight": (D,), p + "attn_q.weight": (HEADS * HEAD_DIM, D),
                       p + "attn_k.weight": (KV_HEADS * HEAD_DIM, D), p + "attn_v.weight": (KV_HEADS * HEAD_DIM, D),
                       p + "attn_output.weight": (D, HEADS * HEAD_DIM), p + "ffn_norm.weight": (D,),
                       p + "ffn_gate.weight": (FFN, D), p + "ffn_up.weight": (FFN, D), p + "ffn_down.weight": (D, FFN)})
    return shapes


def metadata() -> Dict[str, object]:
    return {"general.name": "gguf-maker", "llama.context_length": 128, "llama.embedding_length": D,
            "llama.block_count": LAYERS, "llama.feed_forward_length": FFN, "llama.attention.head_count": HEADS,
            "llama.attention.head_count_kv": KV_HEADS, "llama.attention.layer_norm_rms_epsilon": 1e-5,
            "llama.rope.freq_base": 10000.0, "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "smollm",
            "tokenizer.ggml.tokens": TOKENS, "tokenizer.ggml.token_type": TYPES, "tokenizer.ggml.merges": MERGES,
            "tokenizer.ggml.eos_token_id": EOS, "tokenizer.chat_template": TEMPLATE}


def write(path: str, *, meta: Optional[Dict[str, object]] = None, drop_meta: Set[str] = frozenset(),
          drop_tensors: Set[str] = frozenset(), shapes: Optional[Dict[str, tuple]] = None,
          raw_types: Optional[Dict[str, str]] = None, seed: int = 0) -> str:
    """Writes the GGUF file. `meta` overrides metadata values (the type follows the Python value),
    `shapes` tensor shapes, `raw_types` stores a tensor as raw bytes of another GGML type."""
    import gguf
    values = {**metadata(), **(meta or {})}
    w = gguf.GGUFWriter(path, "llama")
    for key, value in values.items():
        if key in drop_meta:
            continue
        if isinstance(value, bool):
            w.add_bool(key, value)
        elif isinstance(value, int):
            w.add_uint32(key, value) if value >= 0 else w.add_int32(key, value)
        elif isinstance(value, float):
            w.add_float32(key, value)
        elif isinstance(value, str):
            w.add_string(key, value)
        else:
            w.add_array(key, value)
    rng = np.random.default_rng(seed)
    for name, shape in {**tensor_shapes(), **(shapes or {})}.items():
        if name in drop_tensors:
            continue
        kind = (raw_types or {}).get(name)
        if kind is None:
            w.add_tensor(name, (rng.standard_normal(shape) * 0.1).astype(np.float32))
            continue
        qtype = gguf.GGMLQuantizationType[kind]
        block, nbytes = gguf.GGML_QUANT_SIZES[qtype]
        rows, cols = shape if len(shape) == 2 else (1, shape[0])
        data = rng.integers(0, 256, size=(rows, cols // block * nbytes), dtype=np.uint8)  # the bytes' shape
        w.add_tensor(name, data, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
