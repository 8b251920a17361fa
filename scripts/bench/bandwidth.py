#!/usr/bin/env python3
"""Memory read bandwidth of this machine, for the roofline line of docs/benchmarks.md: the best of
R timed sums over a float32 tensor much larger than the caches (torch, at 1 and 2 threads).

  bandwidth.py [--mib 1024] [--repeat 5]

Prints one line per thread count: GB/s (10^9 bytes read per second). Decoding one token at batch 1
reads every weight once, so weight bytes / this bandwidth is the fastest a decode step can be.
"""
import argparse
import time

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    x = torch.ones(a.mib * (1 << 20) // 4, dtype=torch.float32)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        best = float("inf")
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            x.sum()
            best = min(best, time.perf_counter() - t0)
        print(f"threads {threads}: {x.numel() * 4 / best / 1e9:.1f} GB/s read ({a.mib} MiB, best of {a.repeat})")


if __name__ == "__main__":
    main()
