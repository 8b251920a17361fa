#!/usr/bin/env python3
"""Helpers of scripts/demo_tiny.sh (demo.sh --tiny) and scripts/real_summary.py (standard library only).

    demo_summary.py prompts TEST.jsonl --out PROMPTS.jsonl [--n 2]
        picks N items of each gold label for the generation examples
    demo_summary.py table RESULTS.json [--mask-json MASK.json] [--examples TEST.jsonl UNSTEERED.jsonl STEERED.jsonl]
        prints what was steered, accuracy without and with steering and every baseline and control
        in the results (dev-selected, on test, with 95% intervals; random: mean +- sd over its
        seeds and SADI's percentile among them), the mask's stability (from `sadi inspect --json`)
        and the example generations side by side
"""
import argparse
import json
import sys

NAMES = {"none": "no steering", "sadi": "SADI", "fixed": "fixed: mean SADI edit",
         "fixed-dir": "fixed-dir: Delta*M, SADI's norm", "fixed-raw": "fixed-raw: delta*Delta*M", "iti": "ITI",
         "caa": "CAA (residual)", "random": "random K"}


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


def method_rows(r):
    """One line per method: the dev-selected point on test; random over its seeds."""
    sel = r["selected"]
    lines = [f"{'method':<34}{'K':>4}{'delta':>7}{'dev':>8}{'test':>8}   test 95% CI"]
    for m in ("none", "sadi", "fixed", "fixed-dir", "fixed-raw", "iti", "caa"):
        if m not in sel:
            continue
        x = sel[m]
        k = "-" if m == "none" else (f"L{x['layer']}" if m == "caa" else str(x["top_k"]))
        d = "-" if m == "none" else f"{x['delta']:g}"
        lines.append(f"{NAMES[m]:<34}{k:>4}{d:>7}{x['dev_accuracy']:>8.3f}{x['test_accuracy']:>8.3f}   "
                     f"[{x['test_ci95'][0]:.3f}, {x['test_ci95'][1]:.3f}]")
    if "random" in sel:
        x = sel["random"]
        pct = f"; SADI at percentile {x['sadi_percentile']:.0f}" if "sadi_percentile" in x else ""
        lines.append(f"{NAMES['random'] + ' (' + str(x['seeds']) + ' seeds)':<34}{'-':>4}{'-':>7}{x['dev_accuracy']:>8.3f}"
                     f"{x['test_accuracy']:>8.3f}   +- {x['test_sd']:.3f} sd{pct}")
    return lines


def stability_lines(mask_json, site):
    st = mask_json["sites"].get(site, {}).get("stability")
    if not st:
        return []
    curve = ", ".join(f"K={k}: {m:.2f}" for k, m in zip(st["k"], st["overlap_mean"]))
    return [f"Mask stability ({st['resamples']} bootstrap resamples of the pairs; mean share of the top-K kept): {curve}"]


def table(args):
    r = json.load(open(args.results, encoding="utf-8"))
    site = r["site"]
    sel = r["selected"]
    s = sel["sadi"]
    print(f"Steered: site '{site}', the top {s['top_k']} elements of the mask, delta = {s['delta']:g} "
          f"(activations x {1 + s['delta']:g} at the last prompt token, mode {r['mode']}); every method's "
          f"settings chosen on the dev split ({r['dev']['n']} items).")
    print(f"Task: {r['task']['file'].split('/')[-1]} ({r['task']['n_test']} test items), metric {r['metric']}.\n")
    print("\n".join(method_rows(r)))
    base = sel["none"]["test_accuracy"]
    print(f"\nSADI changes test accuracy from {base:.3f} to {s['test_accuracy']:.3f} "
          f"({(s['test_accuracy'] - base) * 100:+.1f} points).")
    if args.mask_json:
        for line in stability_lines(json.load(open(args.mask_json, encoding="utf-8")), site):
            print(line)
    if not args.examples:
        return 0
    test, unsteered, steered = args.examples
    gold = {it["id"]: it for it in read_jsonl(test)}
    un = {g["id"]: g for g in read_jsonl(unsteered)}
    st = {g["id"]: g for g in read_jsonl(steered)}
    print(f"\n{'review':<58}{'gold':<10}{'unsteered':<12}steered")
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
    t.add_argument("results")
    t.add_argument("--mask-json", help="sadi inspect MASK.h5 --json output (for the stability line)")
    t.add_argument("--examples", nargs=3, metavar=("TEST", "UNSTEERED", "STEERED"),
                   help="print these generations side by side")
    args = ap.parse_args(argv)
    return prompts(args) if args.cmd == "prompts" else table(args)


if __name__ == "__main__":
    sys.exit(main())
