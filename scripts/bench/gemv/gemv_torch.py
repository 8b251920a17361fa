#!/usr/bin/env python3
"""Matrix-vector products of one decoded token (every weight once, more bytes than any cache) in
LibTorch's ways: torch.mv on [out, in] weights (what sadi's decode runs), the transposed layout,
x @ W^T as a one-row matmul, and oneDNN's packed linear. Prints ms per token and GB/s read.

  gemv_torch.py MODEL_DIR [--repeat 5]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shapes import decode_shapes  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    shapes = decode_shapes(a.model_dir)
    ws = [torch.randn(o, i) * 0.01 for o, i in shapes]
    wts = [w.t().contiguous() for w in ws]
    xs = [torch.randn(1, i) for _, i in shapes]
    packed = [torch.ops.mkldnn._reorder_linear_weight(w) for w in ws]
    mb = sum(w.numel() for w in ws) * 4 / 1e6
    kinds = {
        "torch.mv [out,in]": lambda: [torch.mv(w, x[0]) for w, x in zip(ws, xs)],
        "torch.mv [in,out]^T": lambda: [torch.mv(wt.t(), x[0]) for wt, x in zip(wts, xs)],
        "x @ W^T (mm, M=1)": lambda: [torch.mm(x, wt) for wt, x in zip(wts, xs)],
        "oneDNN packed linear": lambda: [torch.ops.mkldnn._linear_pointwise(x, p, None, "none", [], "")
                                         for p, x in zip(packed, xs)],
    }
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, f in kinds.items():
            f()
            best = float("inf")
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                f()
                best = min(best, time.perf_counter() - t0)
            print(f"threads {threads}  {name:<22} {best * 1e3:7.1f} ms per token  {mb / best / 1e3:5.1f} GB/s ({mb:.0f} MB)")


if __name__ == "__main__":
    main()
