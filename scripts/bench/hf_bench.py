"""Benchmark peer (not a test): Hugging Face transformers' generate on the same checkpoint and the
same prompt token ids as scripts/bench/generate_bench.sh, greedy, a fixed number of new tokens,
after a warm-up, with CUDA synchronised around each timing. Prints decode tokens/s at batch 1 and
16 and prefill tokens/s. Exits 77 (skipped) where transformers is not importable (the CPU
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


if __name__ == "__main__":
    main()
