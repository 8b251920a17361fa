#!/usr/bin/env python3
"""Export a Hugging Face Llama-family checkpoint to a sadi model directory.

Usage: export_hf.py --hf-dir DIR --out MODEL_DIR [--dtype float32|float16|bfloat16]
Needs torch (Debian: /usr/bin/python3 with python3-torch); transformers is optional and only
used for an extra parity check.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sadi_export.export import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
