#!/usr/bin/env python3
"""Helpers of scripts/demo.sh (standard library only).

    demo_summary.py prompts TEST.jsonl --out PROMPTS.jsonl [--n 2]
        picks N items of each gold label for the generation examples
    demo_summary.py table RESULTS.json TEST.jsonl UNSTEERED.jsonl STEERED.jsonl
        prints what was steered, accuracy without and with steering and the baselines (dev-selected,
        on test, with 95% intervals) and the example generations side by side
"""
import argparse
import json
import sys

NAMES = {"none": "no steering", "sadi": "SADI", "fixed": "fixed vector (Delta*M)", "random": "random elements",
         "caa": "CAA (residual)"}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def review_of(prompt):
    """The text between the instruction and 'Answer:' of the SST-2 template."""
    parts = prompt.split("\n\n")
    return parts[1] if len(parts) >= 3 else prompt


def prompts(args):
    items = read_jsonl(args.test)
    chosen = []
    for label in sorted({it["answer"] for it in items}):
        chosen += [it for it in items if it["answer"] == label][:args.n]
    with open(args.out, "w", encoding="utf-8") as f:
        for it in chosen:
            f.write(json.dumps({"id": it["id"], "prompt": it["prompt"]}) + "\n")
    return 0


def table(args):
    r = json.load(open(args.results, encoding="utf-8"))
    gold = {it["id"]: it for it in read_jsonl(args.test)}
    site = r["site"]
    sel = r["selected"]
    s = sel["sadi"]
    print(f"Steered: site '{site}', the top {s['top_k']} elements of the mask, delta = {s['delta']:g} "
          f"(activations x {1 + s['delta']:g} at the last prompt token, mode {r['mode']}); K and delta chosen on "
          f"the dev split ({r['dev']['n']} items).")
    print(f"Behaviour: answering the sentiment question of {r['task']['file'].split('/')[-1]} "
          f"({r['task']['n_test']} test items), metric {r['metric']}.\n")
    print(f"{'method':<24}{'K':>4}{'delta':>7}{'dev':>8}{'test':>8}   test 95% CI")
    for m in ("none", "sadi", "fixed", "random", "caa"):
        if m not in sel:
            continue
        x = sel[m]
        k = "-" if m in ("none", "caa") else str(x["top_k"])
        d = "-" if m == "none" else f"{x['delta']:g}"
        print(f"{NAMES[m]:<24}{k:>4}{d:>7}{x['dev_accuracy']:>8.3f}{x['test_accuracy']:>8.3f}   "
              f"[{x['test_ci95'][0]:.3f}, {x['test_ci95'][1]:.3f}]")
    base = sel["none"]["test_accuracy"]
    print(f"\nSADI changes test accuracy from {base:.3f} to {s['test_accuracy']:.3f} "
          f"({(s['test_accuracy'] - base) * 100:+.1f} points).\n")
    un = {g["id"]: g for g in read_jsonl(args.unsteered)}
    st = {g["id"]: g for g in read_jsonl(args.steered)}
    print(f"{'review':<58}{'gold':<10}{'unsteered':<12}steered")
    for i, g in un.items():
        text = review_of(gold[i]["prompt"])
        text = text if len(text) <= 56 else text[:53] + "..."
        print(f"{text:<58}{gold[i]['answer']:<10}{g['output'].strip()!r:<12}{st[i]['output'].strip()!r}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prompts")
    p.add_argument("test")
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=2)
    t = sub.add_parser("table")
    for name in ("results", "test", "unsteered", "steered"):
        t.add_argument(name)
    args = ap.parse_args(argv)
    return prompts(args) if args.cmd == "prompts" else table(args)


if __name__ == "__main__":
    sys.exit(main())
