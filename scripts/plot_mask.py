#!/usr/bin/env python3
"""Plot a mask file written by `sadi identify`.

  plot_mask.py MASK.h5 --out heads.png [--top N]

Draws a layer x head heatmap of the head scores (mean difference over head_dim) and, for each
other site present, a per-layer bar chart: how many of the site's top-N elements lie in each layer.
Needs h5py and matplotlib (Debian: python3-h5py, python3-matplotlib; use /usr/bin/python3).
"""
import argparse
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mask")
    ap.add_argument("--out", required=True, help="PNG file to write")
    ap.add_argument("--top", type=int, default=100, help="top-N elements counted per layer for non-head sites")
    a = ap.parse_args()
    try:
        f = h5py.File(a.mask, "r")
    except OSError as e:
        print(f"plot_mask: error: {a.mask}: cannot open as HDF5: {e}", file=sys.stderr)
        return 3
    with f:
        sites = [s for s in ("head", "neuron", "hidden", "residual") if s in f]
        if not sites:
            print(f"plot_mask: error: {a.mask}: no site groups", file=sys.stderr)
            return 3
        fig, axes = plt.subplots(1, len(sites), figsize=(5 * len(sites), 4.5), squeeze=False)
        for ax, site in zip(axes[0], sites):
            g = f[site]
            mean = g["mean_diff"][()]
            n_layers = mean.shape[0]
            if site == "head":
                lim = float(np.abs(mean).max()) or 1.0
                im = ax.imshow(mean.T, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
                ax.set_xlabel("layer")
                ax.set_ylabel("head")
                ax.set_title(f"head: mean difference ({g.attrs['count']} pairs)")
                fig.colorbar(im, ax=ax)
                if "mask" in g:
                    ys, xs = np.nonzero(g["mask"][()].T)
                    ax.scatter(xs, ys, marker="s", facecolors="none", edgecolors="k", s=60, label=f"top-{g.attrs['top_k']}")
                    ax.legend(loc="upper right", fontsize=8)
            else:
                top = g["ranking"][: a.top, 0]
                counts = np.bincount(top, minlength=n_layers)
                ax.bar(np.arange(n_layers), counts, color="tab:blue")
                ax.set_xlabel("layer")
                ax.set_ylabel(f"elements in the top {min(a.top, len(g['ranking']))}")
                ax.set_title(f"{site}: where the top elements lie")
        fig.suptitle(os.path.basename(a.mask) + f"  ({f.attrs.get('rank', '?')} rank, {f.attrs.get('position', '?')})")
        fig.tight_layout()
        tmp = a.out + ".tmp.png"
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, a.out)
    print(f"plot_mask: wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
