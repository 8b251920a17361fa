#!/usr/bin/env python3
"""Train the small sentiment model that the demo and the smoke test steer (docs/tiny-model.md).

    .venv/bin/python scripts/train_tiny.py --out models/tiny-sentiment --data tests/data/tiny [--seed 0]

Text comes from the templates and word lists of configs/tiny/sentiment.json. Reviews appear in
two formats: "Review: ... Sentiment: LABEL" always with the right label, and the SST-2 question
template whose labels lean to "positive" (negative reviews are labelled right only 45% of the
time). The model therefore reads sentiment yet answers the question with a bias: SADI has
something to find and something to fix. Writes a Hugging Face
checkpoint (config.json, model.safetensors, tokenizer.model, tokenizer_config.json) that
scripts/export_hf.py exports like any other, and, with --data, the contrastive pairs and the dev
and test task files of the question (reviews disjoint from each other). Seeded; CPU only.
"""
import argparse
import json
import math
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

from make_tiny_model import train_tokenizer  # noqa: E402
from sadi_export.config import read_config  # noqa: E402
from sadi_export.modeling import CausalLM  # noqa: E402
from sadi_export.weights import save_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, "..", "configs", "tiny", "sentiment.json")


class Lexicon:
    def __init__(self, path):
        self.cfg = json.load(open(path, encoding="utf-8"))
        if self.cfg.get("format_version") != 1:
            raise SystemExit(f"{path}: key 'format_version': expected 1, found {self.cfg.get('format_version')}")

    def review(self, rng, polarity, noun=None):
        """One or two sentences of one polarity; about `noun` when given, else a noun per sentence."""
        words = self.cfg[polarity]
        out = []
        for _ in range(rng.choice((1, 1, 2))):
            t = rng.choice(self.cfg["sentences"])
            out.append(t.format(noun=noun or rng.choice(self.cfg["nouns"]), adj=rng.choice(words),
                                int=rng.choice(self.cfg["intensifiers"])))
        return " ".join(out)

    def question_accuracy(self, polarity, noun):
        """How often the question format labels a review of this polarity about this noun right."""
        lean = self.cfg.get("question_noun_lean")
        if lean:  # {"positive": [nouns], "negative": [nouns], "against_lean_accuracy": p}
            for side in ("positive", "negative"):
                if noun in lean[side] and side != polarity:
                    return lean["against_lean_accuracy"]
            return 1.0
        acc = self.cfg["question_label_accuracy"]
        return acc[polarity] if isinstance(acc, dict) else acc

    def question_prompt(self, review):
        """The question format up to 'Answer:' (what sadi eval scores)."""
        return self.cfg["question_format"].split(" {label}")[0].format(review=review)

    def example(self, rng):
        r = rng.random()
        mix = self.cfg["mix"]
        question = mix["review"] <= r < mix["review"] + mix["question"]
        polarity = rng.choice(("positive", "negative"))
        noun = rng.choice(self.cfg["nouns"]) if self.cfg.get("question_noun_lean") else None
        review = self.review(rng, polarity, noun)
        label = self.cfg["labels"][polarity]
        if r < mix["review"]:
            return self.cfg["review_format"].format(review=review, label=label)
        if question:
            if rng.random() >= self.question_accuracy(polarity, noun):
                label = self.cfg["labels"]["negative" if polarity == "positive" else "positive"]
            return self.cfg["question_format"].format(review=review, label=label)
        return review + "\n"


def write_hf_config(out, args, vocab):
    cfg = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": args.d_model, "intermediate_size": args.d_ffn, "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads, "num_key_value_heads": args.kv_heads, "vocab_size": vocab,
        "max_position_embeddings": 256, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
        "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
        "attention_bias": False,
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "tokenizer_class": "LlamaTokenizer", "model_max_length": 256}, f, indent=2)


def batches(lex, sp, rng, batch, max_len):
    """Endless batches: ids [B, T] (BOS + text + EOS, right-padded), mask [B, T]."""
    while True:
        rows = []
        for _ in range(batch):
            ids = [1] + sp.encode(lex.example(rng)) + [2]
            rows.append(ids[:max_len])
        t = max(len(r) for r in rows)
        ids = torch.full((batch, t), 2, dtype=torch.long)
        mask = torch.zeros(batch, t, dtype=torch.bool)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r)
            mask[i, :len(r)] = True
        yield ids, mask


def train(args, lex, sp, hf_dir):
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    arch = read_config(hf_dir)
    model = CausalLM(arch)
    for name, p in model.named_parameters():  # small init, as HF's initializer_range
        if p.dim() == 2:
            torch.nn.init.normal_(p, std=0.02)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    data = batches(lex, sp, rng, args.batch, 96)
    t0 = time.time()
    model.train()
    for step in range(1, args.steps + 1):
        lr = args.lr * min(1.0, step / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        ids, mask = next(data)
        b, t = ids.shape
        pos = torch.arange(t).unsqueeze(0).expand(b, t)
        logits, _ = model(ids, pos, mask, 0, [], [], pos, {}, {})  # [B, T, V]
        target = ids[:, 1:]
        loss_mask = mask[:, 1:].float()
        nll = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), target.reshape(-1),
                                                reduction="none").view(b, t - 1)
        loss = (nll * loss_mask).sum() / loss_mask.sum()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == 1:
            print(f"train_tiny: step {step}/{args.steps} loss {loss.item():.4f} lr {lr:.2e} "
                  f"({time.time() - t0:.0f} s)", file=sys.stderr)
    model.eval()
    return model


def save(model, out):
    sd = {}
    for k, v in model.state_dict().items():
        if k == "inv_freq":
            continue
        sd[k if k.startswith("lm_head.") else "model." + k] = v.detach().contiguous().clone()
    save_safetensors(sd, os.path.join(out, "model.safetensors"), {"format": "pt"})


def write_task_data(lex, seed, folder, n_pairs, n_dev, n_test):
    """Pairs, dev and test files of the question format, with disjoint reviews."""
    rng = random.Random(seed + 1000)
    seen, items = set(), []
    while len(items) < n_pairs + n_dev + n_test:
        polarity = "positive" if len(items) % 2 == 0 else "negative"
        review = lex.review(rng, polarity, rng.choice(lex.cfg["nouns"]) if lex.cfg.get("question_noun_lean") else None)
        if review in seen:
            continue
        seen.add(review)
        items.append((review, polarity))
    rng.shuffle(items)
    os.makedirs(folder, exist_ok=True)
    labels = lex.cfg["labels"]
    choices = sorted(labels.values())

    def write(name, records):
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")

    other = {"positive": "negative", "negative": "positive"}
    pairs = [{"id": f"p{i:03d}", "prompt": lex.question_prompt(r), "positive": labels[p], "negative": labels[other[p]]}
             for i, (r, p) in enumerate(items[:n_pairs])]
    dev = [{"id": f"d{i:03d}", "prompt": lex.question_prompt(r), "answer": labels[p], "choices": choices}
           for i, (r, p) in enumerate(items[n_pairs:n_pairs + n_dev])]
    test = [{"id": f"t{i:03d}", "prompt": lex.question_prompt(r), "answer": labels[p], "choices": choices}
            for i, (r, p) in enumerate(items[n_pairs + n_dev:])]
    write("pairs.jsonl", pairs)
    write("dev.jsonl", dev)
    write("test.jsonl", test)


def corpus_file(lex, seed, n):
    rng = random.Random(seed + 2000)
    f = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8")
    for _ in range(n):
        f.write(lex.example(rng).replace("\n", " ").strip() + "\n")
    f.close()
    return f.name


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="Hugging Face checkpoint directory to write")
    ap.add_argument("--config", default=DEFAULT_CONFIG, help="templates and word lists")
    ap.add_argument("--data", help="also write pairs.jsonl, dev.jsonl and test.jsonl here")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--d-ffn", type=int, default=192)
    ap.add_argument("--vocab", type=int, default=640, help="tokenizer vocabulary size")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: reproducible bits)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a top-level key of --config (experiments), e.g. question_label_accuracy=0.6")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    lex = Lexicon(args.config)
    for kv in args.set:
        key, _, value = kv.partition("=")
        if key not in lex.cfg:
            raise SystemExit(f"--set {kv}: {args.config} has no key '{key}'")
        lex.cfg[key] = json.loads(value)
    os.makedirs(args.out, exist_ok=True)
    corpus = corpus_file(lex, args.seed, 4000)
    try:
        vocab = train_tokenizer(args.out, args.vocab, corpus)
    finally:
        os.unlink(corpus)
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(args.out, "tokenizer.model"))
    write_hf_config(args.out, args, vocab)
    model = train(args, lex, sp, args.out)
    save(model, args.out)
    if args.data:
        write_task_data(lex, args.seed, args.data, 150, 100, 200)
    print(f"train_tiny: wrote {args.out}" + (f" and {args.data}" if args.data else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
