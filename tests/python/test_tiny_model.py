"""The smoke test on the committed trained model (models/tiny-sentiment, docs/tiny-model.md):
SADI, with K and delta chosen on the shipped dev split, raises test accuracy on the shipped test
split above the upper end of the unsteered run's own 95% interval; delta = 0 reproduces the
unsteered per-item results exactly. (That the same command gives the same bytes on this model is
tests/python/test_determinism.py's test.)"""
import json
import os

from conftest import DATA, TINY, needs_cli, run_sadi

pytestmark = needs_cli


def sadi(*args):
    return run_sadi(*args).stdout


def test_sadi_moves_the_behaviour_beyond_the_baseline_interval(tmp_path):
    model = os.path.join(DATA, "sentiment")
    mask = str(tmp_path / "mask.h5")
    sadi("identify", "--model", model, "--pairs", os.path.join(TINY, "pairs.jsonl"), "--out", mask)
    out = str(tmp_path / "r.json")
    sadi("eval", "--model", model, "--task", os.path.join(TINY, "test.jsonl"), "--dev",
         os.path.join(TINY, "dev.jsonl"), "--mask", mask, "--site", "head", "--top-k", "1,2,4,8",
         "--delta", "0,2,4,9,19", "--baselines", "none,random", "--random-seeds", "3", "--seed", "0", "--out", out)
    r = json.load(open(out))
    none = next(p for p in r["points"] if p["method"] == "none")
    lo, hi = none["test"]["ci95"]
    sel = r["selected"]["sadi"]
    assert sel["delta"] > 0
    assert sel["test_accuracy"] > hi, (sel, none["test"]["accuracy"], hi)
    assert sel["test_accuracy"] > none["test"]["accuracy"] + 0.1
    for p in r["points"]:
        if p["method"] == "sadi" and p["delta"] == 0:
            assert p["test"]["correct"] == none["test"]["correct"] and p["dev"]["correct"] == none["dev"]["correct"]
