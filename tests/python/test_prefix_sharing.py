"""Prefix sharing (issue 17, docs/eval.md "Prefix sharing"): each prompt's K/V computed once and
reused by every grid point and choice. Checked against the whole-row computation
(--prefix-sharing false, an independent code path: one forward over prompt + answer) to float32
rounding, and against itself row by row: in batch-invariant mode a grid's shared rows equal the
same rows run alone (one configuration, batch 1) bit for bit. Needs SADI_BIN and SADI_TESTDATA."""
import json
import os
import subprocess

import pytest
from tolerances import tol

BIN = os.environ.get("SADI_BIN")
DATA = os.environ.get("SADI_TESTDATA")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TINY = os.path.join(ROOT, "tests", "data", "tiny")
pytestmark = pytest.mark.skipif(not BIN or not DATA, reason="needs SADI_BIN and SADI_TESTDATA (run through ctest)")
MODEL = os.path.join(DATA or "", "sentiment")
# float32 rounding between the two code paths (measured: at most 7e-6 on these models)
TOL = tol("float32", "prefix_sharing")


def sadi(*args):
    subprocess.run([BIN, *args, "--log-level", "warn"], check=True, stdout=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def mask(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("mask") / "mask.h5")
    sadi("identify", "--model", MODEL, "--pairs", os.path.join(TINY, "pairs.jsonl"), "--out", out, "--top-k", "4")
    return out


def evaluate(mask, out, *extra, metric="choice", task="test.jsonl"):
    sadi("eval", "--model", MODEL, "--task", os.path.join(TINY, task), "--mask", mask, "--site", "head",
         "--metric", metric, "--out", out, *extra)
    return json.load(open(out))


GRID = ["--top-k", "1,4", "--delta", "5,19", "--baselines", "none,random,caa,iti", "--random-seeds", "1",
        "--caa-layers", "1,3", "--caa-multipliers", "4", "--iti-top-k", "1,4", "--iti-alpha", "5"]


def loglik_diff(a, b):
    worst = 0.0
    for pa, pb in zip(a["points"], b["points"]):
        assert (pa["method"], pa.get("top_k"), pa.get("delta")) == (pb["method"], pb.get("top_k"), pb.get("delta"))
        for la, lb in zip(pa["test"]["loglik"], pb["test"]["loglik"]):
            worst = max(worst, max(abs(x - y) for x, y in zip(la, lb)))
    return worst


@pytest.mark.parametrize("invariant", ["true", "false"])
@pytest.mark.parametrize("mode", ["live", "clamp"])
def test_shared_rows_match_whole_rows(tmp_path, mask, invariant, mode):
    """Every log-likelihood of a grid (SADI, random, CAA and ITI steered from the last prompt token
    on) agrees with the whole-row forward to float32 rounding, and no answer changes."""
    runs = {}
    for share in ("true", "false"):
        runs[share] = evaluate(mask, str(tmp_path / f"{share}.json"), *GRID, "--mode", mode,
                               "--batch-invariant", invariant, "--prefix-sharing", share, "--batch-size", "16")
    assert len(runs["true"]["points"]) == 1 + 4 + 4 + 2 + 2  # none, sadi, random, caa (2 layers), iti (2 K)
    assert loglik_diff(runs["true"], runs["false"]) <= TOL
    for pa, pb in zip(runs["true"]["points"], runs["false"]["points"]):
        assert pa["test"]["correct"] == pb["test"]["correct"], pa["method"]


@pytest.mark.parametrize("invariant", ["true", "false"])
def test_layer_sharing_matches_every_layer(tmp_path, mask, invariant):
    """Layer sharing (docs/eval.md "Layer sharing"): a row first steered in layer f runs layers f..
    only, from its unsteered residual stream (computed once per distinct row); the unsteered rows
    run the head alone. Batch-invariant: every log-likelihood equals running every layer bit for
    bit; padded batches: to float32 rounding. The grid edits layers 1 and 3 (CAA), the mask's
    heads' layers (SADI, random, ITI), and none."""
    runs = {}
    for share in ("true", "false"):
        out = str(tmp_path / f"{share}.json")
        log = subprocess.run([BIN, "eval", "--model", MODEL, "--task", os.path.join(TINY, "test.jsonl"), "--mask", mask,
                              "--site", "head", "--metric", "choice", "--out", out, *GRID, "--batch-invariant", invariant,
                              "--layer-sharing", share, "--batch-size", "16", "--log-level", "debug"],
                             check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
        assert ("layers shared by" in log) == (share == "true"), log
        runs[share] = json.load(open(out))
    if invariant == "true":
        for pa, pb in zip(runs["true"]["points"], runs["false"]["points"]):
            assert pa["test"]["loglik"] == pb["test"]["loglik"], (pa["method"], pa.get("top_k"), pa.get("delta"))
    else:
        assert loglik_diff(runs["true"], runs["false"]) <= TOL
    for pa, pb in zip(runs["true"]["points"], runs["false"]["points"]):
        assert pa["test"]["correct"] == pb["test"]["correct"], pa["method"]


def test_shared_rows_equal_rows_run_alone(tmp_path, mask):
    """Batch-invariant mode: the whole grid at batch 64 gives, bit for bit, what each
    configuration gives run on its own at batch 1 (a row's numbers depend on the row alone,
    whichever rows share its prompt's cache and its batch)."""
    grid = evaluate(mask, str(tmp_path / "grid.json"), "--top-k", "1,4", "--delta", "5,19", "--batch-size", "64")
    for k in ("1", "4"):
        for d in ("5", "19"):
            one = evaluate(mask, str(tmp_path / "one.json"), "--top-k", k, "--delta", d, "--batch-size", "1")
            want = [p for p in grid["points"] if p["method"] == "sadi" and p["top_k"] == int(k)
                    and p["delta"] == float(d)]
            assert len(want) == 1
            assert one["points"][1]["test"]["loglik"] == want[0]["test"]["loglik"], (k, d)
            assert one["points"][0]["test"]["loglik"] == grid["points"][0]["test"]["loglik"]


def test_generate_em_shared_prompts_give_the_same_texts(tmp_path, mask):
    """generate-em: prefilling only the last prompt token from the shared prompt gives the same
    greedy texts as prefilling each whole prompt (live and clamp)."""
    for mode in ("live", "clamp"):
        runs = [evaluate(mask, str(tmp_path / f"g{s}.json"), *GRID, "--mode", mode, "--prefix-sharing", s,
                         "--max-new-tokens", "3", metric="generate-em") for s in ("true", "false")]
        for pa, pb in zip(runs[0]["points"], runs[1]["points"]):
            assert pa["test"]["predictions"] == pb["test"]["predictions"], (mode, pa["method"])


def test_identify_shared_prompts_match_whole_sequences(tmp_path):
    """identify: both sequences of a pair from one prompt computation give the mean differences of
    whole-sequence forwards to float32 rounding, and the same ranking."""
    import h5py
    import numpy as np
    masks = {}
    for share in ("true", "false"):
        masks[share] = str(tmp_path / f"{share}.h5")
        sadi("identify", "--model", MODEL, "--pairs", os.path.join(TINY, "pairs.jsonl"), "--out", masks[share],
             "--prefix-sharing", share, "--no-iti")
    with h5py.File(masks["true"]) as a, h5py.File(masks["false"]) as b:
        assert a.attrs["prefix_sharing"] == b"true" or a.attrs["prefix_sharing"] == "true"
        for site in ("head", "neuron", "hidden", "residual"):
            x, y = a[site]["mean_diff"][()], b[site]["mean_diff"][()]
            assert np.abs(x - y).max() <= TOL * max(1.0, np.abs(y).max()), site
            assert (a[site]["ranking"][:10] == b[site]["ranking"][:10]).all(), site
