"""Benchmark peer (not a test): Hugging Face transformers on the same checkpoint and the same
prompt token ids as scripts/bench/generate_bench.sh, after a warm-up, with CUDA synchronised
around each timing. Prints (1) generate: decode tokens/s at batch 1 and 16 and prefill tokens/s,
greedy, a fixed number of new tokens; (2) identify peer, careful batched Python: pairs of
tests/data/pairs_small.jsonl, 16 pairs (32 left-padded sequences) per forward, every layer's
residual stream at each sequence's last token (output_hidden_states), running mean of the
differences: pairs/s; (3) the reference procedure of a grid point: one example at a time, a
forward pre-hook on every layer's o_proj scaling the last prompt token's head outputs by
(1 + delta * mask) for a K-head mask, teacher-forced greedy answer: examples/s per grid point. Exits 77 (skipped) where transformers is not importable (the CPU
machines; the GPU machine has transformers 5.17, ../shared/gpu.md).
Usage: hf_bench.py --model PRESET_DIR (holding hf/) [--device cuda|cpu] [--prompts 16] [--new-tokens 64]"""
import argparse
import json
import os
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--new-tokens", type=int, default=64)
    a = ap.parse_args()
    try:
        import transformers
    except ImportError:
        print("skipped: transformers is not importable here")
        sys.exit(77)
    import sentencepiece as spm
    import torch
    hf = os.path.join(a.model, "hf")
    if not os.path.isdir(hf):
        sys.exit(f"hf_bench: {hf}: no checkpoint (make it with scripts/make_tiny_model.py)")
    dev = torch.device(a.device)
    model = transformers.AutoModelForCausalLM.from_pretrained(hf, torch_dtype="auto").to(dev).eval()
    sp = spm.SentencePieceProcessor(model_file=os.path.join(hf, "tokenizer.model"))
    texts = [json.loads(l)["prompt"] for l in open(os.path.join(ROOT, "tests", "data", "pairs_small.jsonl"))]
    ids = [[sp.bos_id()] + sp.encode(t) for t in (texts * 8)[:max(a.prompts, 16)]]

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def generate(rows, new):
        width = max(len(r) for r in rows)
        pad = 0
        x = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=dev)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=dev)
        sync()
        t0 = time.perf_counter()
        with torch.inference_mode():
            model.generate(input_ids=x, attention_mask=mask, max_new_tokens=new, min_new_tokens=new, do_sample=False,
                           pad_token_id=pad)
        sync()
        return time.perf_counter() - t0

    print(f"hf_bench: transformers {transformers.__version__}, torch {torch.__version__}, {a.device}, "
          f"dtype {next(model.parameters()).dtype}, {a.new_tokens} new tokens, greedy")
    generate(ids[:1], 4)  # warm-up
    for batch in (1, 16):
        rows = ids[:batch]
        t_prefill = generate(rows, 1)
        t_all = generate(rows, a.new_tokens)
        decode = batch * (a.new_tokens - 1) / max(t_all - t_prefill, 1e-9)
        prompt_tokens = sum(len(r) for r in rows)
        print(f"batch {batch}: prefill {prompt_tokens / t_prefill:.1f} tokens/s, decode {decode:.1f} tokens/s "
              f"({a.new_tokens} tokens in {t_all:.2f} s)")
    for name, fn in (("identify", identify_peer), ("grid point", grid_point_peer)):
        try:
            print(fn(model, sp, dev, sync))
        except Exception as e:  # one peer failing must not hide the others' figures
            print(f"{name} peer failed: {type(e).__name__}: {e}")


def left_pad(rows, dev):
    import torch
    width = max(len(r) for r in rows)
    x = torch.tensor([[0] * (width - len(r)) + r for r in rows], device=dev)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=dev)
    return x, mask


def identify_peer(model, sp, dev, sync, n_pairs=256, per_batch=16):
    import torch
    pairs = [json.loads(l) for l in open(os.path.join(ROOT, "tests", "data", "pairs_small.jsonl"))]
    pairs = (pairs * (n_pairs // len(pairs) + 1))[:n_pairs]
    seqs = []
    for p in pairs:
        for ans in (p["positive"], p["negative"]):
            seqs.append([sp.bos_id()] + sp.encode(p["prompt"].strip() + " " + ans.strip()))
    mean, n = None, 0
    sync()
    t0 = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(seqs), 2 * per_batch):
            x, mask = left_pad(seqs[i:i + 2 * per_batch], dev)
            hs = model(input_ids=x, attention_mask=mask, output_hidden_states=True).hidden_states
            last = torch.stack([h[:, -1].float() for h in hs[1:]], 1)  # [2b, L, d]
            d = last[0::2] - last[1::2]
            n += d.size(0)
            mean = d.sum(0) if mean is None else mean + d.sum(0)
        mean = mean / n
    sync()
    s = time.perf_counter() - t0
    return f"identify peer (residual stream, {per_batch} pairs per forward): {n / s:.1f} pairs/s ({n} pairs in {s:.2f} s)"


def grid_point_peer(model, sp, dev, sync, n_items=32, k=8, delta=9.0):
    import torch
    items = [json.loads(l) for l in open(os.path.join(ROOT, "tests", "data", "task_small.jsonl"))][:n_items]
    cfg = model.config
    n_heads, layers = cfg.num_attention_heads, model.model.layers
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // n_heads
    g = torch.Generator().manual_seed(0)
    chosen = torch.randperm(len(layers) * n_heads, generator=g)[:k].tolist()
    state = {"at": 0}
    hooks = []
    for li, layer in enumerate(layers):
        heads = [c % n_heads for c in chosen if c // n_heads == li]
        if not heads:
            continue
        scale = torch.ones(n_heads * head_dim, device=dev, dtype=next(model.parameters()).dtype)
        for h in heads:
            scale[h * head_dim:(h + 1) * head_dim] = 1 + delta

        def pre(mod, args, scale=scale):
            x = args[0].clone()
            x[:, state["at"]] = x[:, state["at"]] * scale
            return (x,) + tuple(args[1:])
        hooks.append(layer.self_attn.o_proj.register_forward_pre_hook(pre))
    right = 0
    sync()
    t0 = time.perf_counter()
    with torch.inference_mode():
        for it in items:
            prompt = [sp.bos_id()] + sp.encode(it["prompt"])
            ids = [sp.bos_id()] + sp.encode(it["prompt"] + " " + it["answer"])
            state["at"] = len(prompt) - 1
            logits = model(input_ids=torch.tensor([ids], device=dev)).logits[0]
            pred = logits[len(prompt) - 1:len(ids) - 1].argmax(-1).tolist()
            right += sp.decode(pred).strip().lower() == it["answer"].strip().lower()
    sync()
    s = time.perf_counter() - t0
    for h in hooks:
        h.remove()
    return (f"grid point peer (reference procedure: one example per forward, K={k} heads, delta {delta}): "
            f"{len(items) / s:.1f} examples/s ({len(items)} in {s:.2f} s, {right} right)")


if __name__ == "__main__":
    main()
