#!/usr/bin/env python3
"""The paper's Figure 4: test accuracy of SADI against the number of contrastive pairs used to
identify the mask, per site, with the unsteered line and the random-elements band.

  pairs_curve.py --model DIR --pairs PAIRS.jsonl --test TEST.jsonl --dev DEV.jsonl --out-dir OUT
      [--sizes 50,100,150,250,500,all] [--sites head,neuron,hidden] [--grid SITE=K,..:DELTA,..]
      [--random-seeds 10] [--sadi build/apps/sadi] [--resume] [-- EXTRA sadi FLAGS]

For each size N: `sadi identify --max-pairs N` (the first N pairs of the file, every site at once),
then per site `sadi eval` over the site's K x delta grid against no steering, K and delta selected
on the dev split and scored on test; then `--random-seeds` draws of random elements at SADI's
selected K and delta, scored on test (mean +- sd: the band). Random elements do not read the
pairs, so the band moves only with the selected K and delta. Extra flags after `--` go to every
identify and eval (e.g. --separator '' --batch-invariant false). Writes OUT/curve.json,
OUT/curve.csv, OUT/curve.png and every run's files under OUT/nN/; --resume reuses finished ones.
"""
import argparse
import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eval_suite import Runner, SuiteError, finished  # noqa: E402  (the suite's step runner and its check)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEFAULT_GRIDS = os.path.join(ROOT, "configs", "reference_grids.json")


class CurveError(Exception):
    pass


def parse_grid(text):
    """'head=1,4,10:0.5,2,4' -> ('head', [1, 4, 10], [0.5, 2.0, 4.0])."""
    site, sep, rest = text.partition("=")
    ks, sep2, ds = rest.partition(":")
    try:
        if not sep or not sep2:
            raise ValueError
        return site, [int(k) for k in ks.split(",")], [float(d) for d in ds.split(",")]
    except ValueError:
        raise CurveError(f"--grid {text}: expected SITE=K,K,...:DELTA,DELTA,...")


def parse_sizes(text):
    out = []
    for s in text.split(","):
        if s == "all":
            out.append(0)
        elif s.isdigit() and int(s) > 0:
            out.append(int(s))
        else:
            raise CurveError(f"--sizes: expected positive counts or 'all', found '{s}'")
    return out


def one_size(a, n, grids, extra):
    """Runs (or reuses) the identify and evals of size n; returns {site: row}."""
    d = os.path.join(a.out_dir, f"n{n or 'all'}")
    os.makedirs(d, exist_ok=True)
    run = Runner(a.sadi, d, dry_run=False)  # each step's output in d/NAME.log
    mask = os.path.join(d, "mask.h5")
    if not (a.resume and os.path.exists(mask)):  # identify writes its mask atomically
        run("identify", ["identify", "--model", a.model, "--pairs", a.pairs, "--max-pairs", str(n),
                         "--sites", ",".join(a.sites), "--no-iti", "--out", mask, *extra])
    rows = {}
    for site in a.sites:
        ks, ds = grids[site]
        res = os.path.join(d, f"results-{site}.json")
        if not (a.resume and finished(res)):
            run(f"eval-{site}", ["eval", "--model", a.model, "--mask", mask, "--task", a.test, "--dev", a.dev,
                                 "--site", site, "--top-k", ",".join(map(str, ks)), "--delta", ",".join(map(str, ds)),
                                 "--baselines", "none", "--out", res, *extra])
        r = json.load(open(res, encoding="utf-8"))
        sel, none = r["selected"]["sadi"], r["selected"]["none"]
        rnd = os.path.join(d, f"random-{site}.json")
        if not (a.resume and finished(rnd)):
            run(f"random-{site}", ["eval", "--model", a.model, "--mask", mask, "--task", a.test, "--site", site,
                                   "--top-k", str(sel["top_k"]), "--delta", str(sel["delta"]), "--baselines",
                                   "random", "--random-seeds", str(a.random_seeds), "--out", rnd, *extra])
        draws = [p["test"]["accuracy"] for p in json.load(open(rnd, encoding="utf-8"))["points"] if p["method"] == "random"]
        mean = sum(draws) / len(draws)
        sd = (sum((x - mean) ** 2 for x in draws) / (len(draws) - 1)) ** 0.5 if len(draws) > 1 else 0.0
        v = none.get("vs_sadi", {})
        rows[site] = {"pairs": n or "all", "pairs_used": r["mask"].get("pairs_used"), "top_k": sel["top_k"],
                      "delta": sel["delta"], "dev": sel["dev_accuracy"], "test": sel["test_accuracy"],
                      "test_ci95": sel["test_ci95"], "none_test": none["test_accuracy"],
                      "p_vs_none": v.get("p"), "diff_vs_none_ci95": v.get("diff_ci95"),
                      "random_mean": mean, "random_sd": sd, "random_draws": len(draws),
                      "results": os.path.relpath(res, a.out_dir)}
    return rows


def plot(curve, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (site, rows) in enumerate(curve["sites"].items()):
        c = f"C{i}"
        x = [r["pairs_used"] for r in rows]
        y = [r["test"] for r in rows]
        err = [[r["test"] - r["test_ci95"][0] for r in rows], [r["test_ci95"][1] - r["test"] for r in rows]]
        ax.errorbar(x, y, yerr=err, color=c, marker="o", capsize=3, label=f"SADI {site} (dev-selected K, delta)")
        lo = [r["random_mean"] - r["random_sd"] for r in rows]
        hi = [r["random_mean"] + r["random_sd"] for r in rows]
        ax.fill_between(x, lo, hi, color=c, alpha=0.15, label=f"random {site} elements (mean +- sd)")
    first = next(iter(curve["sites"].values()))
    ax.axhline(first[0]["none_test"], color="grey", linestyle="--", label="unsteered")
    ax.set_xscale("log")
    ax.set_xlabel("contrastive pairs used by identify")
    ax.set_ylabel("test accuracy")
    ax.set_title(curve.get("title", "accuracy against the number of pairs"))
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for k in ("model", "pairs", "test", "dev", "out-dir"):
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--sizes", default="50,100,150,250,500,all")
    ap.add_argument("--sites", default="head,neuron,hidden")
    ap.add_argument("--grid", action="append", default=[], help="SITE=K,...:DELTA,... (default: configs/reference_grids.json)")
    ap.add_argument("--random-seeds", type=int, default=10)
    ap.add_argument("--sadi", default=os.path.join(ROOT, "build", "apps", "sadi"))
    ap.add_argument("--title", default="")
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args(argv)
    try:
        a.sites = a.sites.split(",")
        sizes = parse_sizes(a.sizes)
        ref = json.load(open(DEFAULT_GRIDS, encoding="utf-8"))
        grids = {s: (ref[s]["top_k"], ref[s]["delta"]) for s in a.sites if s in ref}
        for g in a.grid:
            site, ks, ds = parse_grid(g)
            grids[site] = (ks, ds)
        for s in a.sites:
            if s not in grids:
                raise CurveError(f"--sites {s}: no grid (give --grid {s}=K,...:DELTA,...)")
        os.makedirs(a.out_dir, exist_ok=True)
        curve = {"title": a.title, "model": a.model, "pairs": a.pairs, "test": a.test, "dev": a.dev,
                 "random_seeds": a.random_seeds, "extra_flags": extra,
                 "grids": {s: {"top_k": grids[s][0], "delta": grids[s][1]} for s in a.sites},
                 "sites": {s: [] for s in a.sites}}
        for n in sizes:
            for site, row in one_size(a, n, grids, extra).items():
                curve["sites"][site].append(row)
    except (CurveError, SuiteError) as e:
        print(f"pairs_curve: error: {e}", file=sys.stderr)
        return 3
    with open(os.path.join(a.out_dir, "curve.json"), "w", encoding="utf-8") as f:
        json.dump(curve, f, indent=2)
    fields = ["site", "pairs", "pairs_used", "top_k", "delta", "dev", "test", "ci_lo", "ci_hi", "none_test", "p_vs_none",
              "random_mean", "random_sd", "random_draws"]
    with open(os.path.join(a.out_dir, "curve.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for site, rows in curve["sites"].items():
            for r in rows:
                w.writerow({**r, "site": site, "ci_lo": r["test_ci95"][0], "ci_hi": r["test_ci95"][1]})
    plot(curve, os.path.join(a.out_dir, "curve.png"))
    for site, rows in curve["sites"].items():
        for r in rows:
            print(f"{site:<8}{str(r['pairs_used']):>6} pairs  K={r['top_k']:<4} delta={r['delta']:<6g} test {r['test']:.3f} "
                  f"[{r['test_ci95'][0]:.3f}, {r['test_ci95'][1]:.3f}]  unsteered {r['none_test']:.3f}  "
                  f"p vs unsteered {r['p_vs_none']:.2g}  random {r['random_mean']:.3f} +- {r['random_sd']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
