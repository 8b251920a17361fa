#!/usr/bin/env python3
"""Compares two runs of the same job (e.g. scripts/demo.sh before and after a refactor) for
byte-identity of what users see: every results JSON, mask HDF5 dataset and JSON Lines output
under A and B with the same relative path.

Usage: .venv/bin/python scripts/dev/compare_runs.py A_DIR B_DIR [--root A_ROOT B_ROOT]...

Paths differ between runs (output folder, checkout), so each occurrence of A_DIR (and of every
A_ROOT) in a text file is replaced by B_DIR (B_ROOT) before comparing; JSON keys that differ
from run to run by nature (VOLATILE: the command line, wall seconds and peak memory of a stage,
a creation time) and mask attributes holding a command line or paths are not compared. Exit 0
when everything else is identical, 1 otherwise.
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np


def text(path, subs):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        s = f.read()
    for a, b in subs:
        s = s.replace(a, b)
    return s


VOLATILE = {"command_line", "wall_s", "peak_rss_mib", "created"}


def drop_volatile(v):
    if isinstance(v, dict):
        return {k: drop_volatile(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [drop_volatile(x) for x in v]
    return v


def comparable(s, name):
    """The text as compared: JSON (and each JSON line) without VOLATILE keys; other text as is."""
    try:
        if name.endswith(".jsonl"):
            return [drop_volatile(json.loads(line)) for line in s.split("\n") if line.strip()]
        if name.endswith(".json"):
            return drop_volatile(json.loads(s))
    except json.JSONDecodeError:
        pass
    return s


def compare_h5(a, b):
    diffs = []
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names_a, names_b = [], []
        fa.visit(names_a.append)
        fb.visit(names_b.append)
        if names_a != names_b:
            return [f"objects differ: {names_a} vs {names_b}"]
        for n in names_a:
            if isinstance(fa[n], h5py.Dataset):
                x, y = fa[n][()], fb[n][()]
                if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
                    diffs.append(f"dataset {n} differs")
        for k in sorted(set(fa.attrs) | set(fb.attrs)):
            va, vb = fa.attrs.get(k), fb.attrs.get(k)
            if isinstance(va, np.ndarray):
                same = np.array_equal(va, vb)
            else:
                same = va == vb
            if not same and k not in ("command_line", "pairs_file", "model_dir"):
                diffs.append(f"attribute {k}: {va!r} vs {vb!r}")
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--root", nargs=2, action="append", default=[], metavar=("A_ROOT", "B_ROOT"))
    args = ap.parse_args()
    subs = [(os.path.abspath(args.a), os.path.abspath(args.b))] + [(x, y) for x, y in args.root]
    bad = 0
    seen = 0
    for dirpath, _, files in os.walk(args.a):
        for name in sorted(files):
            pa = os.path.join(dirpath, name)
            rel = os.path.relpath(pa, args.a)
            pb = os.path.join(args.b, rel)
            if not name.endswith((".json", ".jsonl", ".h5", ".csv", ".md")) or rel.startswith("model"):
                continue
            seen += 1
            if not os.path.exists(pb):
                print(f"MISSING in B: {rel}")
                bad += 1
                continue
            if name.endswith(".h5"):
                diffs = compare_h5(pa, pb)
            else:
                same = comparable(text(pa, subs), name) == comparable(text(pb, []), name)
                diffs = [] if same else ["contents differ"]
            print(("same      " if not diffs else "DIFFERENT ") + rel + ("" if not diffs else ": " + "; ".join(diffs)))
            bad += bool(diffs)
    print(f"{seen} files compared, {bad} different")
    return 1 if bad or not seen else 0


if __name__ == "__main__":
    sys.exit(main())
