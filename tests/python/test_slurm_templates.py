"""scripts/slurm/shard.sbatch and merge.sbatch without a scheduler (docs/cluster.md): each array
element run as Slurm would run it (SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT set), then the
merge job: the merged eval equals the unsharded run (apart from the command line), the merged
mask equals the unsharded one; an element run again over its complete result does nothing.
Needs SADI_BIN and SADI_TESTDATA (CTest)."""
import json
import os
import subprocess

import pytest

BIN = os.environ.get("SADI_BIN")
DATA = os.environ.get("SADI_TESTDATA")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TINY = os.path.join(ROOT, "tests", "data", "tiny")
SLURM = os.path.join(ROOT, "scripts", "slurm")
pytestmark = pytest.mark.skipif(not BIN or not DATA, reason="needs SADI_BIN and SADI_TESTDATA (run through ctest)")


def element(script, i, n, *args):
    env = dict(os.environ, SADI_BIN=BIN, SLURM_ARRAY_TASK_ID=str(i), SLURM_ARRAY_TASK_COUNT=str(n))
    r = subprocess.run(["bash", os.path.join(SLURM, script), *args], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def test_eval_array_and_merge_equal_the_unsharded_run(tmp_path):
    model = os.path.join(DATA, "sentiment")
    mask = str(tmp_path / "mask.h5")
    subprocess.run([BIN, "identify", "--model", model, "--pairs", os.path.join(TINY, "pairs.jsonl"), "--out", mask,
                    "--log-level", "warn"], check=True)
    args = ["--model", model, "--task", os.path.join(TINY, "test.jsonl"), "--mask", mask, "--top-k", "1,2",
            "--delta", "4,19", "--metric", "choice", "--log-level", "warn"]
    run = str(tmp_path / "run")
    for i in (1, 2, 3):
        element("shard.sbatch", i, 3, "eval", run, "--", *args)
    again = element("shard.sbatch", 2, 3, "eval", run, "--", *args[:-2])  # complete: nothing to do
    assert "nothing to do" in again.stderr
    element("merge.sbatch", 1, 1, "eval", run)
    whole = str(tmp_path / "whole.json")
    subprocess.run([BIN, "eval", *args, "--out", whole], check=True, stdout=subprocess.DEVNULL)
    merged, want = json.load(open(os.path.join(run, "results.json"))), json.load(open(whole))
    for r in (merged, want):
        r.pop("command_line")
        r.pop("shard", None)
    assert merged["points"] == want["points"]
    assert merged["selected"] == want["selected"]


def test_identify_array_and_merge_equal_the_unsharded_mask(tmp_path):
    import h5py
    model = os.path.join(DATA, "sentiment")
    args = ["--model", model, "--pairs", os.path.join(TINY, "pairs.jsonl"), "--top-k", "4", "--log-level", "warn"]
    run = str(tmp_path / "run")
    for i in (1, 2):
        element("shard.sbatch", i, 2, "identify", run, "--", *args)
    element("merge.sbatch", 1, 1, "identify", run)
    whole = str(tmp_path / "whole.h5")
    subprocess.run([BIN, "identify", *args, "--no-iti", "--out", whole], check=True)
    with h5py.File(whole) as a, h5py.File(os.path.join(run, "mask.h5")) as m:
        for site in ("head", "neuron", "hidden", "residual"):
            for ds in ("mean_diff", "std", "ranking", "zscore", "mask"):
                assert a[site][ds][()].tobytes() == m[site][ds][()].tobytes(), (site, ds)


def test_an_element_submitted_again_on_its_own_needs_the_shard_count(tmp_path):
    """sbatch --array=3 makes an array of one element: N is not the array's size then."""
    args = ["eval", str(tmp_path / "run"), "--", "--model", os.path.join(DATA, "sentiment")]
    env = dict(os.environ, SADI_BIN=BIN, SLURM_ARRAY_TASK_ID="3", SLURM_ARRAY_TASK_COUNT="1",
               SLURM_ARRAY_TASK_MIN="3", SLURM_ARRAY_TASK_MAX="3")
    env.pop("SADI_SHARDS", None)
    r = subprocess.run(["bash", os.path.join(SLURM, "shard.sbatch"), *args], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "the array is 3-3 with 1 elements, not 1-1: set SADI_SHARDS" in r.stderr, r.stderr
    env["SADI_SHARDS"] = "4"
    r = subprocess.run(["bash", os.path.join(SLURM, "shard.sbatch"), *args], env=env, capture_output=True, text=True)
    assert "shard 3/4" in r.stderr, r.stderr  # sadi runs (and fails on the missing --task)
