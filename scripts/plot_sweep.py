#!/usr/bin/env python3
"""Plot a `sadi eval` results file: the K x delta heatmap of SADI's accuracy, with the
unsteered baseline marked on the colour bar and the dev-selected point boxed.

  plot_sweep.py RESULTS.json --out sweep.png [--split test|dev] [--method sadi|fixed|fixed-dir|fixed-raw]
Needs matplotlib (in .venv, scripts/install_deps.sh).
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--out", required=True)
    ap.add_argument("--split", choices=["test", "dev"], default="test")
    ap.add_argument("--method", choices=["sadi", "fixed", "fixed-dir", "fixed-raw"], default="sadi")
    a = ap.parse_args()
    try:
        res = json.load(open(a.results))
        ks, deltas = res["grid"]["top_k"], res["grid"]["delta"]
        points = res["points"]
    except (OSError, json.JSONDecodeError, KeyError) as e:
        print(f"plot_sweep: error: {a.results}: not a sadi eval results file ({e})", file=sys.stderr)
        return 3
    grid = np.full((len(ks), len(deltas)), np.nan)
    base = None
    for p in points:
        if a.split not in p:
            print(f"plot_sweep: error: {a.results}: no '{a.split}' scores (was a dev split given?)", file=sys.stderr)
            return 3
        acc = p[a.split]["accuracy"]
        if p["method"] == "none":
            base = acc
        elif p["method"] == a.method:
            grid[ks.index(p["top_k"]), deltas.index(p["delta"])] = acc
    if np.isnan(grid).all():
        print(f"plot_sweep: error: {a.results}: no '{a.method}' points", file=sys.stderr)
        return 3
    fig, ax = plt.subplots(figsize=(1.2 * len(deltas) + 3, 0.8 * len(ks) + 2.5))
    im = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    ax.set_xticks(range(len(deltas)), [f"{d:g}" for d in deltas])
    ax.set_yticks(range(len(ks)), [str(k) for k in ks])
    ax.set_xlabel("delta")
    ax.set_ylabel("K")
    for i in range(len(ks)):
        for j in range(len(deltas)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", color="w", fontsize=8)
    sel = res.get("selected", {}).get(a.method)
    if sel:
        i, j = ks.index(sel["top_k"]), deltas.index(sel["delta"])
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2, label="selected on dev"))
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.15), fontsize=8)
    cb = fig.colorbar(im, ax=ax)
    if base is not None:
        cb.ax.axhline(base, color="red", lw=2)
        cb.ax.text(1.5, base, f" baseline {base:.3f}", va="center", fontsize=8, transform=cb.ax.get_yaxis_transform())
    ax.set_title(f"{a.method} on {res.get('site', '?')}, {res.get('metric', '?')}, {a.split} accuracy")
    fig.tight_layout()
    tmp = a.out + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    os.replace(tmp, a.out)
    print(f"plot_sweep: wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
