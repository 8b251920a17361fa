#!/usr/bin/env python3
"""Benchmark helper (not a test): the fastest a prompt of T tokens can be processed in float32 on
this CPU, counting only the layers' matrix products (every other operation free): LibTorch's GEMM
(MKL, the one sadi's prompt path calls) on each layer matrix of an exported model, [T, in] x
[in, out], best of R, at 1 and 2 threads; the head is left out (a prompt needs one row of it).

  prompt_ceiling.py MODEL_DIR [--tokens 224] [--repeat 5]

Prints, per thread count, the products' GFLOP/s and the prompt tokens/s they allow.
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gemv"))
from shapes import decode_shapes  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--tokens", type=int, default=224)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    shapes = decode_shapes(a.model_dir)[:-1]  # the layers' matrices, not the head
    ws = [torch.randn(o, i) for o, i in shapes]  # [out, in], as the module holds them
    xs = {i: torch.randn(a.tokens, i) for _, i in shapes}
    flop = sum(2 * a.tokens * o * i for o, i in shapes)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        best = float("inf")
        for _ in range(a.repeat + 1):  # the first pass warms up
            t0 = time.perf_counter()
            for w in ws:
                torch.nn.functional.linear(xs[w.size(1)], w)
            best = min(best, time.perf_counter() - t0)
        print(f"threads {threads}: {len(ws)} products of {a.tokens} rows, {flop / 1e9:.1f} GFLOP in {best * 1e3:.0f} ms "
              f"= {flop / best / 1e9:.0f} GFLOP/s: at most {a.tokens / best:.0f} prompt tokens/s (best of {a.repeat})")


if __name__ == "__main__":
    main()
