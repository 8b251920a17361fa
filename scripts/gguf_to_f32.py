#!/usr/bin/env python3
"""Write a copy of a GGUF model file with every tensor dequantized to F32 (metadata unchanged but
general.file_type): llama.cpp then runs exactly the float32 weights scripts/import_gguf.py gives sadi.

Usage: gguf_to_f32.py --gguf MODEL.gguf --out MODEL.F32.gguf
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sadi_gguf import GgufError  # noqa: E402
from sadi_gguf.f32 import write_f32  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="gguf_to_f32.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    try:
        write_f32(a.gguf, a.out)
    except (GgufError, OSError) as e:
        print(f"gguf_to_f32: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
