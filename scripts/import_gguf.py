#!/usr/bin/env python3
"""Import a llama.cpp GGUF model file as a Hugging Face checkpoint directory (config.json,
model.safetensors in float32, tokenizer.json, tokenizer_config.json with the chat template,
sadi_import.json with the provenance), which scripts/export_hf.py then exports like any other.

Usage: import_gguf.py --gguf MODEL.gguf --out HF_DIR [--force]
Architectures: llama (Llama 1-3 without rope scaling, Mistral, SmolLM), qwen2. Tensor types: F32,
F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K (dequantized to float32 by the `gguf` package).
Tokenizers: byte-level BPE (tokenizer.ggml.model "gpt2", pre-tokenizer smollm, llama-bpe, qwen2,
gpt-2, default) and SentencePiece ("llama"). Anything else is refused, naming the key (docs/gguf.md).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sadi_gguf import GgufError  # noqa: E402
from sadi_gguf.importer import import_gguf  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="import_gguf.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--gguf", required=True, help="the GGUF model file to read")
    ap.add_argument("--out", required=True, help="the Hugging Face checkpoint directory to write")
    ap.add_argument("--force", action="store_true", help="replace an existing output directory")
    a = ap.parse_args(argv)
    try:
        import_gguf(a.gguf, a.out, a.force)
    except (GgufError, OSError) as e:
        print(f"import_gguf: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
