#!/usr/bin/env python3
"""Plot a mask file written by `sadi identify`.

  plot_mask.py MASK.h5 --out heads.png [--top N]

Draws layer x head heatmaps of the head scores (mean difference over head_dim), and where the
file has them, the z-scores (mean / standard error), ITI's probe accuracy and the bootstrap
selection frequency (with the top-K overlap in the title); for each other site present, a
per-layer bar chart: how many of the site's top-N elements lie in each layer.
Needs h5py and matplotlib (in .venv, scripts/install_deps.sh).
"""
import argparse
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402



def text_attr(obj, key: str) -> str:
    """A text attribute of a mask file: fixed-length UTF-8 (bytes in h5py) or, in older masks, str."""
    v = obj.attrs.get(key, "?")
    return v.decode("utf-8") if isinstance(v, (bytes, bytearray)) else str(v)

def head_panels(g):
    """(title, [L, H] data, colour map, (vmin, vmax)) for the head group's optional datasets."""
    out = []
    if "zscore" in g:
        z = g["zscore"][()]
        lim = float(np.abs(z).max()) or 1.0
        out.append(("head: z = mean / standard error", z, "RdBu_r", (-lim, lim)))
    if "iti" in g:
        it = g["iti"]
        out.append((f"head: ITI probe accuracy ({it.attrs['val_pairs']} held-out pairs)", it["probe_accuracy"][()],
                    "viridis", (0.0, 1.0)))
    if "stability" in g:
        st = g["stability"]
        k = int(st.attrs["frequency_k"])
        ks = list(st["k"][()])
        over = f", overlap {st['overlap_mean'][ks.index(k)]:.2f}" if k in ks else ""
        out.append((f"head: share of {st.attrs['resamples']} resamples in top-{k}{over}", st["frequency"][()],
                    "viridis", (0.0, 1.0)))
    return out


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
        extra = head_panels(f["head"]) if "head" in f else []
        panels = len(sites) + len(extra)
        fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.5), squeeze=False)
        for ax, (title, data, cmap, lim) in zip(axes[0][len(sites):], extra):
            im = ax.imshow(data.T, aspect="auto", origin="lower", cmap=cmap, vmin=lim[0], vmax=lim[1])
            ax.set_xlabel("layer")
            ax.set_ylabel("head")
            ax.set_title(title, fontsize=9)
            fig.colorbar(im, ax=ax)
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
        fig.suptitle(os.path.basename(a.mask) + f"  ({text_attr(f, 'rank')} rank, {text_attr(f, 'position')})")
        fig.tight_layout()
        tmp = a.out + ".tmp.png"
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, a.out)
    print(f"plot_mask: wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
