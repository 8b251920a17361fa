#!/usr/bin/env python3
"""Export a Hugging Face Llama-family checkpoint to a sadi model directory.

Usage: export_hf.py --hf-dir DIR --out MODEL_DIR [--dtype float32|float16|bfloat16]
Needs torch (.venv/bin/python, scripts/install_deps.sh). Where transformers is importable (it is in
.venv) the exported model's logits are also checked against transformers' own; without it that
check is skipped and said so.
TorchScript (torch.jit.script/save) is deprecated in torch 2.11 in favour of torch.export; it still
works, and LibTorch 2.11 loads it (docs/model-directory.md).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sadi_export.export import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
