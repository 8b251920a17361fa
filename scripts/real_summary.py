#!/usr/bin/env python3
"""The table at the end of scripts/demo.sh (the real-model job): reads its output folder and prints
what was run and what it measured (standard library only).

    real_summary.py OUT_DIR [--json SUMMARY.json]

Rows: unsteered accuracy with the raw SST-2 template (exact match and choice) and with the chat
template; per site (head, neuron, hidden) every method's dev-selected point on test with its 95%
interval; random elements (20 draws at SADI's selected K and delta, scored on test: mean +- sd,
range, SADI's percentile); the transfer row (the movie mask on the Amazon task); the mask's stability; example
generations; wall time and peak memory per stage.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_summary import NAMES, read_jsonl  # noqa: E402

SITES = ("head", "neuron", "hidden")


def load(out, name):
    path = os.path.join(out, name)
    return json.load(open(path, encoding="utf-8")) if os.path.isfile(path) else None


def point_of(x, method):
    if method == "none":
        return "-", "-"
    if method == "caa":
        return f"L{x['layer']}", f"{x['delta']:g}"
    return str(x["top_k"]), f"{x['delta']:g}"


def ci(x):
    return f"[{x['test_ci95'][0]:.3f}, {x['test_ci95'][1]:.3f}]"


def unsteered(r):
    p = next(p for p in r["points"] if p["method"] == "none")["test"]
    return p["accuracy"], p["ci95"]


def random_summary(rnd, sadi_test):
    """mean and sd (n - 1) of the random draws' test accuracies and SADI's percentile among them
    (ties count half), as sadi eval's own summary computes them (lib/eval/src/report.cpp)."""
    acc = [p["test"]["accuracy"] for p in rnd["points"] if p["method"] == "random"]
    mean = sum(acc) / len(acc)
    sd = (sum((a - mean) ** 2 for a in acc) / (len(acc) - 1)) ** 0.5 if len(acc) > 1 else 0.0
    below = sum(1.0 if a < sadi_test else 0.5 if a == sadi_test else 0.0 for a in acc)
    return {"draws": len(acc), "mean": mean, "sd": sd, "sadi_percentile": 100.0 * below / len(acc),
            "min": min(acc), "max": max(acc)}


def vs_text(v):
    """SADI minus the baseline on the same test items: difference, paired 95% interval, p."""
    return (f"{v['diff']:+.3f} [{v['diff_ci95'][0]:+.3f}, {v['diff_ci95'][1]:+.3f}] "
            f"sel.-aware [{v['diff_ci95_selection_aware'][0]:+.3f}, {v['diff_ci95_selection_aware'][1]:+.3f}] "
            f"p={v['p']:.2g}")


def vs_random(sadi_correct, rnd, seed=0, resamples=2000, flips=10000):
    """SADI's selected point against the random draws' mean on the same test items (the draws ran
    without a dev split, so sadi eval has no comparison for them): per item d = SADI - mean over
    draws; a paired bootstrap 95% interval of mean(d) and a sign-flip permutation p-value, as
    lib/eval/src/significance.cpp computes them for an in-grid random baseline."""
    import random
    draws = [p["test"]["correct"] for p in rnd["points"] if p["method"] == "random"]
    n = len(sadi_correct)
    d = [sadi_correct[i] - sum(x[i] for x in draws) / len(draws) for i in range(n)]
    rng = random.Random(seed)
    means = sorted(sum(d[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    obs = abs(sum(d))
    extreme = 1 + sum(abs(sum(x if rng.random() < 0.5 else -x for x in d)) >= obs - 1e-12 for _ in range(flips))
    return {"diff": sum(d) / n, "diff_ci95": [means[int(0.025 * (resamples - 1))], means[int(0.975 * (resamples - 1))]],
            "p": extreme / (flips + 1), "test": "sign-flip-permutation"}


def site_rows(site, r, rnd):
    rows, sel = [], r["selected"]
    for m in ("none", "sadi", "fixed", "fixed-dir", "fixed-raw", "iti", "caa"):
        if m in sel:
            k, d = point_of(sel[m], m)
            rows.append(dict(site=site, method=NAMES[m], k=k, delta=d, dev=sel[m]["dev_accuracy"],
                             test=sel[m]["test_accuracy"], ci=ci(sel[m]), vs_sadi=sel[m].get("vs_sadi"),
                             vs=vs_text(sel[m]["vs_sadi"]) if "vs_sadi" in sel[m] else ""))
    if rnd:
        x = random_summary(rnd, sel["sadi"]["test_accuracy"])
        sadi_point = next(p for p in r["points"] if p["method"] == "sadi" and p["top_k"] == sel["sadi"]["top_k"]
                          and p["delta"] == sel["sadi"]["delta"])
        v = vs_random(sadi_point["test"]["correct"], rnd)
        rows.append(dict(site=site, method=f"random K ({x['draws']} draws)", k=str(sel["sadi"]["top_k"]),
                         delta=f"{sel['sadi']['delta']:g}", dev=float("nan"), test=x["mean"],
                         ci=f"+- {x['sd']:.3f} sd, range {x['min']:.3f}-{x['max']:.3f}; "
                            f"SADI at percentile {x['sadi_percentile']:.0f}", random=x, vs_sadi=v,
                         vs=f"{v['diff']:+.3f} [{v['diff_ci95'][0]:+.3f}, {v['diff_ci95'][1]:+.3f}] "
                            f"p={v['p']:.2g} (sign-flip)"))
    return rows


def stages(out):
    path = os.path.join(out, "stages.tsv")
    if not os.path.isfile(path):
        return []
    rows = []
    for line in open(path, encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 3:
            rows.append((parts[0], float(parts[1]), int(parts[2]) / 1024))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="scripts/demo.sh's output folder")
    ap.add_argument("--json", help="also write the figures as JSON here")
    a = ap.parse_args(argv)
    out = a.out
    man = load(out, "model/manifest.json")
    data = load(out, "data/movie/manifest.json")
    head = load(out, "results-head.json")
    gguf = man["source"].get("gguf", {})
    print(f"Model: SmolLM2-135M-Instruct, imported from {os.path.basename(gguf.get('source_file', '?'))} "
          f"(sha256 {gguf.get('source_sha256', '?')[:16]}..., {man['dims']['n_layers']} layers, "
          f"{man['dims']['n_heads']} heads), float32.")
    print(f"Task: Rotten Tomatoes snippets rated by 20 people (VADER ICWSM-14), mean rating beyond "
          f"+-{data['threshold']:g}, balanced; {data['sizes']['pairs']} pairs for identify, {data['sizes']['dev']} dev, "
          f"{data['sizes']['test']} test items; the reference SST-2 prompt in the model's chat template; "
          f"metric {head['metric']} (rule {head['em_rule']}).\n")
    summary = {"unsteered": {}, "sites": {}, "transfer": None}
    print("Unsteered accuracy on the movie test split:")
    for name, label in (("results-raw-exact-match.json", "raw SST-2 template, exact match"),
                        ("results-raw-choice.json", "raw SST-2 template, choice (log-likelihood)"),
                        ("results-head.json", "chat template, exact match"),
                        ("results-chat-choice.json", "chat template, choice (log-likelihood)")):
        r = load(out, name)
        if r:
            acc, c = unsteered(r)
            summary["unsteered"][label] = acc
            print(f"  {label:<46}{acc:.3f}   [{c[0]:.3f}, {c[1]:.3f}]")
    print(f"\n{'site':<8}{'method':<36}{'K':>5}{'delta':>7}{'dev':>8}{'test':>8}   test 95% CI")
    vs_lines = []
    for site in SITES:
        r, rnd = load(out, f"results-{site}.json"), load(out, f"random-{site}.json")
        if not r:
            continue
        rows = site_rows(site, r, rnd)
        summary["sites"][site] = rows
        for x in rows:
            dev = "-" if x["dev"] != x["dev"] else f"{x['dev']:.3f}"
            print(f"{x['site']:<8}{x['method']:<36}{x['k']:>5}{x['delta']:>7}{dev:>8}{x['test']:>8.3f}   {x['ci']}")
            if x["vs"]:
                vs_lines.append(f"{x['site']:<8}{x['method']:<36}{x['vs']}")
    if vs_lines:
        print("\nSADI minus each baseline on the same test items, both at their dev-selected points (SADI at the same "
              "site): difference, paired bootstrap 95% CI, selection-aware 95% CI (dev and test resampled, selection "
              "repeated), p (exact McNemar; random: sign-flip permutation over the draws' mean):")
        print("\n".join(vs_lines))
    t = load(out, "results-transfer.json")
    if t:
        s, n = t["selected"]["sadi"], t["selected"]["none"]
        summary["transfer"] = {"none": n["test_accuracy"], "sadi": s["test_accuracy"], "top_k": s["top_k"],
                               "delta": s["delta"]}
        print(f"\nTransfer (head mask from movie pairs, Amazon task, K and delta chosen on Amazon dev): "
              f"none {n['test_accuracy']:.3f} {ci(n)}, SADI K={s['top_k']} delta={s['delta']:g} "
              f"{s['test_accuracy']:.3f} {ci(s)}")
    mask = load(out, "mask.json")
    if mask:
        parts = []
        for site in SITES:
            st = mask["sites"].get(site, {}).get("stability")
            if st:
                for k in (8, 128):
                    if k in st["k"]:
                        parts.append(f"{site} top-{k} {st['overlap_mean'][st['k'].index(k)]:.2f}")
        if parts:
            print(f"Mask stability (mean share of the top-K kept over {st['resamples']} bootstrap resamples of "
                  f"the pairs): {', '.join(parts)}")
    if os.path.isfile(os.path.join(out, "unsteered.jsonl")):
        gold = {it["id"]: it for it in read_jsonl(os.path.join(out, "data", "movie", "test.jsonl"))}
        st = {g["id"]: g for g in read_jsonl(os.path.join(out, "steered.jsonl"))}
        print(f"\n{'review':<58}{'gold':<10}{'unsteered':<32}steered (head, selected K and delta)")
        for g in read_jsonl(os.path.join(out, "unsteered.jsonl")):
            text = gold[g["id"]]["prompt"].split("\n\n")[1]
            text = text if len(text) <= 56 else text[:53] + "..."
            un, steered = (repr(x["output"].strip()) for x in (g, st[g["id"]]))
            un = un if len(un) <= 30 else un[:27] + "..."
            print(f"{text:<58}{gold[g['id']]['answer']:<10}{un:<32}{steered}")
    rows = stages(out)
    if rows:
        print("\nStages (wall seconds, peak RSS MiB): " + ", ".join(f"{n} {w:.0f} s {m:.0f}" for n, w, m in rows)
              + f"; total {sum(w for _, w, _ in rows):.0f} s")
        summary["stages"] = [{"stage": n, "wall_s": w, "peak_rss_mib": m} for n, w, m in rows]
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
