"""scripts/pairs_curve.py (the paper's Figure 4) on the trained sentiment model: one identify per
size with the first N pairs, the eval's selected point per site, the random band, the plot; every
row equals what the run's own results files say."""
import json
import os
import subprocess
import sys

from conftest import DATA, TINY, needs_cli

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
pytestmark = needs_cli


def test_curve_rows_are_the_runs_selected_points(tmp_path):
    model = os.path.join(DATA, "sentiment")
    items = [json.loads(x) for x in open(os.path.join(TINY, "test.jsonl"))]
    dev, test = tmp_path / "dev.jsonl", tmp_path / "test.jsonl"
    dev.write_text("".join(json.dumps(x) + "\n" for x in items[:40]))
    test.write_text("".join(json.dumps(x) + "\n" for x in items[40:100]))
    out = tmp_path / "curve"
    cmd = [sys.executable, os.path.join(ROOT, "scripts", "pairs_curve.py"), "--model", model, "--pairs",
           os.path.join(TINY, "pairs.jsonl"), "--test", str(test), "--dev", str(dev), "--out-dir", str(out),
           "--sizes", "4,30,all", "--sites", "head,hidden", "--grid", "head=1,2:4,9", "--grid", "hidden=1,4:4,9",
           "--random-seeds", "3", "--sadi", os.environ["SADI_BIN"], "--", "--log-level", "warn"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    curve = json.load(open(out / "curve.json"))
    assert (out / "curve.png").stat().st_size > 1000 and (out / "curve.csv").exists()
    for site in ("head", "hidden"):
        rows = curve["sites"][site]
        assert [x["pairs_used"] for x in rows] == [4, 30, 150]
        for x in rows:
            res = json.load(open(out / x["results"]))  # relative to the output folder
            assert res["mask"]["pairs_used"] == x["pairs_used"] and res["site"] == site
            assert x["test"] == res["selected"]["sadi"]["test_accuracy"] and x["top_k"] == res["selected"]["sadi"]["top_k"]
            assert x["random_draws"] == 3 and x["random_sd"] >= 0
    # masks from different pair counts differ: the curve measures something
    heads = [x["test"] for x in curve["sites"]["head"]] + [x["top_k"] for x in curve["sites"]["head"]]
    assert len({json.dumps(x) for x in heads}) > 1 or curve["sites"]["head"][0]["dev"] != curve["sites"]["head"][-1]["dev"]
    # --resume reuses every finished run
    r = subprocess.run(cmd[:cmd.index("--")] + ["--resume", "--"] + cmd[cmd.index("--") + 1:], capture_output=True, text=True)
    assert r.returncode == 0 and "+ " not in r.stderr, r.stderr
