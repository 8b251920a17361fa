#!/usr/bin/env python3
"""Where a batch-1 decode step of an exported model spends its time: the module's forward with a
KV cache, one token at a time after a prompt (as `sadi generate` decodes, unoptimised graph
executor as in sadi), timed, then torch.profiler's per-operator totals per token.

  decode_profile.py MODEL_DIR [--prompt 224] [--steps 40] [--threads 2] [--top 12]
"""
import argparse
import json
import os
import time

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--prompt", type=int, default=224)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--top", type=int, default=12)
    a = ap.parse_args()
    torch._C._set_graph_executor_optimize(False)  # as sadi's runtime (lib/model/src/torchscript_model.cpp)
    torch.set_num_threads(a.threads)
    m = torch.jit.load(os.path.join(a.model_dir, "model.ts")).eval()
    dims = json.load(open(os.path.join(a.model_dir, "manifest.json"), encoding="utf-8"))["dims"]
    cap = a.prompt + 2 * a.steps + 16
    ck = [torch.zeros(1, dims["n_kv_heads"], cap, dims["head_dim"]) for _ in range(dims["n_layers"])]
    cv = [torch.zeros_like(c) for c in ck]
    t = a.prompt
    with torch.inference_mode():
        m(torch.randint(0, 1000, (1, t)), torch.arange(t)[None], torch.ones(1, t, dtype=torch.bool), 0, ck, cv,
          torch.tensor([[t - 1]]), {}, {})

        def step(i):
            s = t + i
            m(torch.tensor([[5]]), torch.tensor([[s]]), torch.ones(1, s + 1, dtype=torch.bool), s, ck, cv,
              torch.tensor([[0]]), {}, {})

        for i in range(3):
            step(i)
        t0 = time.perf_counter()
        for i in range(3, 3 + a.steps):
            step(i)
        ms = (time.perf_counter() - t0) / a.steps * 1e3
        weights = sum(p.numel() * p.element_size() for p in m.parameters()) / 1e6
        print(f"{a.model_dir}: {ms:.1f} ms per decoded token ({1e3 / ms:.1f} tokens/s) at {a.threads} threads; "
              f"{weights:.0f} MB of weights")
        from torch.profiler import ProfilerActivity, profile
        n = 10
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for i in range(3 + a.steps, 3 + a.steps + n):
                step(i)
    rows = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    rows.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in prof.key_averages()) / n / 1e3
    print(f"profiled: {total:.1f} ms per token of self time; aten operators by self time per token:")
    for e in rows[:a.top]:
        print(f"  {e.key:<24} {e.self_cpu_time_total / n / 1e3:7.2f} ms  {e.count // n:6d} calls")
    calls = sum(e.count for e in rows) // n
    print(f"  all aten operators: {calls} calls per token")


if __name__ == "__main__":
    main()
