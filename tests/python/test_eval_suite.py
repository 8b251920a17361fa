"""scripts/eval_suite.py: a two-task suite on the tiny model writes a Table-1-style markdown and
CSV whose cells are the dev-selected points of the eval results; identification pairs are kept
out of the scored items; --resume reuses finished results; a failing step names its command."""
import csv
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SADI_BIN")
DATA = os.environ.get("SADI_TESTDATA")
pytestmark = pytest.mark.skipif(not BIN or not DATA, reason="needs SADI_BIN and SADI_TESTDATA (run through ctest)")


def suite(tmp_path, cfg, *extra):
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(cfg))
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "eval_suite.py"), "--config", str(path),
                           "--out-dir", str(tmp_path / "out"), "--sadi", BIN, *extra],
                          capture_output=True, text=True, cwd=ROOT)


def small_config():
    cfg = json.load(open(os.path.join(ROOT, "configs", "suites", "samples.json")))
    cfg["models"] = [{"name": "tiny", "dir": os.path.join(DATA, "llama")}]
    cfg["tasks"] = [t for t in cfg["tasks"] if t["name"] in ("copa", "sst2")]
    cfg["sites"] = ["head", "hidden"]
    return cfg


def test_suite_writes_the_table_from_the_selected_points(tmp_path):
    r = suite(tmp_path, small_config())
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    rows = list(csv.DictReader(open(out / "summary.csv")))
    labels = {(x["task"], x["row"]) for x in rows}
    for task in ("copa", "sst2"):
        for label in ("baseline", "SADI-head", "SADI-hidden", "fixed-head", "random-head", "fixed-hidden",
                      "random-hidden", "CAA"):
            assert (task, label) in labels, (task, label)
    assert len(rows) == 16  # none and caa once per task, not once per site
    for x in rows:
        res = json.load(open(os.path.join(ROOT, x["results"])))
        sel = res["selected"][x["method"]]
        assert float(x["test_accuracy"]) == pytest.approx(sel["test_accuracy"])
        assert float(x["dev_accuracy"]) == pytest.approx(sel["dev_accuracy"])
    md = (out / "summary.md").read_text()
    assert "| method | copa | sst2 | avg |" in md and "| SADI-head |" in md
    # every baseline row carries its comparison with SADI at its site (first site: baseline, CAA)
    for x in rows:
        res = json.load(open(os.path.join(ROOT, x["results"])))
        if x["method"] == "sadi":
            assert x["p_vs_sadi"] == ""
            continue
        v = res["selected"][x["method"]]["vs_sadi"]
        assert float(x["p_vs_sadi"]) == pytest.approx(v["p"]) and float(x["diff_vs_sadi"]) == pytest.approx(v["diff"])
        assert x["vs_sadi_site"] == ("head" if x["method"] in ("none", "caa", "iti") else x["site"])
        assert x["p_test"] == v["test"]
    assert "SADI minus each baseline on the same test items" in md and "| CAA | " in md.split("SADI minus")[1]
    # no scored item was used for identification
    for task in ("copa", "sst2"):
        pairs = {json.loads(x)["prompt"] for x in open(out / "data" / f"{task}.pairs.jsonl")}
        items = {json.loads(x)["prompt"] for x in open(out / "data" / f"{task}.task.jsonl")}
        assert pairs and items and not pairs & items
    # --resume reuses what is there
    before = os.path.getmtime(out / "runs" / "tiny" / "copa" / "head.json")
    r = suite(tmp_path, small_config(), "--resume")
    assert r.returncode == 0, r.stderr
    assert os.path.getmtime(out / "runs" / "tiny" / "copa" / "head.json") == before
    assert "eval --model" not in r.stderr


def test_suite_errors_name_the_key_or_the_command(tmp_path):
    cfg = small_config()
    cfg["sites"] = ["head", "elbow"]
    r = suite(tmp_path, cfg)
    assert r.returncode == 3 and "key 'sites': expected head, neuron, hidden or residual" in r.stderr
    cfg = small_config()
    cfg["models"][0]["dir"] = str(tmp_path / "nomodel")
    r = suite(tmp_path, cfg)
    assert r.returncode == 3 and "identify --model" in r.stderr and "failed with exit code 4" in r.stderr
    assert not (tmp_path / "out" / "summary.md").exists()


def test_slurm_dry_run_prints_the_jobs_and_refusals_name_the_key(tmp_path):
    """--slurm --dry-run needs no scheduler: the sbatch commands, shards capped by the splits."""
    cfg = small_config()
    cfg["slurm"] = {"partition": "gpu", "gpus": 1, "time": {"eval": "01:00:00"}}
    r = suite(tmp_path, cfg, "--slurm", "--dry-run", "--shards", "3", "--identify-shards", "2", "--mem", "8G")
    assert r.returncode == 0, r.stderr
    sb = [line for line in r.stderr.splitlines() if line.startswith("+ sbatch")]
    # per task: identify array + merge, per site: eval array (2 shards: 2 test items) + merge; summary
    assert len(sb) == 2 * (2 + 2 * 2) + 1, r.stderr
    ident = next(line for line in sb if "tiny/copa/identify " in line)
    assert "--array=1-2" in ident and "--gres=gpu:1" in ident and "--partition=gpu" in ident and "--mem=8G" in ident
    ev = next(line for line in sb if "tiny/copa/head/eval " in line)
    assert "--array=1-2" in ev and "--time=01:00:00" in ev and "--signal=B:TERM@120" in ev
    assert "3 eval shards" not in r.stderr and "2 eval shards, not 3" in r.stderr
    merge = next(line for line in sb if "tiny/copa/head/merge " in line)
    assert "--gres" not in merge and "--time=00:30:00" in merge and "--dependency=afterok:" in merge
    assert "summary" in sb[-1] and sb[-1].count(":") > 4  # after every merge
    assert not os.path.exists(tmp_path / "out" / "slurm" / "plan.json")  # nothing submitted, no plan

    cfg["slurm"] = {"shards": 0}
    r = suite(tmp_path, cfg, "--slurm", "--dry-run")
    assert r.returncode == 3 and "key 'slurm.shards': expected an integer >= 1, found 0" in r.stderr
    cfg["slurm"] = {"gpu": 1}
    r = suite(tmp_path, cfg, "--slurm", "--dry-run")
    assert r.returncode == 3 and "key 'slurm.gpu': expected one of" in r.stderr
    cfg["slurm"] = {}
    cfg["baselines"] = ["iti"]
    r = suite(tmp_path, cfg, "--slurm", "--dry-run", "--identify-shards", "2")
    assert r.returncode == 3 and "key 'slurm.identify_shards': expected 1 when the baselines include iti" in r.stderr
    r = suite(tmp_path, cfg, "--status")
    assert r.returncode == 3 and "plan.json: cannot read the suite's plan" in r.stderr


def test_baselines_run_their_own_grids_whatever_the_site_order(tmp_path):
    """ITI and CAA take the config's "iti" / "caa" lists (or sadi eval's defaults), never the grid
    of the site listed first (with neuron first, ITI used to get 3..500 heads)."""
    cfg = small_config()
    cfg["sites"] = ["neuron", "head"]
    cfg["grids"] = {"neuron": {"top_k": [3, 500], "delta": [9]}, "head": {"top_k": [1, 2], "delta": [4]}}
    cfg["baselines"] = ["iti", "caa"]
    cfg["iti"] = {"alpha": [5, 15]}
    cfg["caa"] = {"multipliers": [2, 4]}
    r = suite(tmp_path, cfg, "--dry-run")
    assert r.returncode == 0, r.stderr
    evals = [line for line in r.stderr.splitlines() if line.startswith("+ ") and " eval " in line]
    first = [e for e in evals if "--site neuron" in e]
    assert first and all("--baselines none,iti,caa" in e for e in first)
    assert all("--iti-alpha 5,15" in e and "--caa-multipliers 2,4" in e and "--iti-top-k" not in e for e in first)
    assert all("--iti" not in e and "--caa" not in e for e in evals if "--site head" in e)
    cfg["iti"] = {"top_k": [1, 2, 4, 8, 16]}
    r = suite(tmp_path, cfg, "--dry-run")
    assert r.returncode == 0 and "--iti-top-k 1,2,4,8,16 " in r.stderr, r.stderr
    cfg["iti"] = {"top_k": []}
    r = suite(tmp_path, cfg, "--dry-run")
    assert r.returncode == 3 and "key 'iti.top_k': expected a non-empty list of numbers, found []" in r.stderr
    cfg["iti"] = {"heads": [1]}
    r = suite(tmp_path, cfg, "--dry-run")
    assert r.returncode == 3 and "key 'iti': expected" in r.stderr
