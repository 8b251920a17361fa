"""sadi identify --shard I/N + sadi merge (issue 19, item 2): the merged mask's datasets equal the
unsharded run's bit for bit (float64 statistics merged with Chan et al.'s update, then ranked as
identify ranks), whatever order the shards are given in; refusals name the file and the key.
Needs SADI_BIN and SADI_TESTDATA (CTest)."""
import os
import subprocess

import pytest

BIN = os.environ.get("SADI_BIN")
DATA = os.environ.get("SADI_TESTDATA")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAIRS = os.path.join(ROOT, "tests", "data", "tiny", "pairs.jsonl")
pytestmark = pytest.mark.skipif(not BIN or not DATA, reason="needs SADI_BIN and SADI_TESTDATA (run through ctest)")
DATASETS = ("mean_diff", "std", "ranking", "ranking_score", "zscore", "mask", "mean_diff_full")


def sadi(*args, ok=True):
    r = subprocess.run([BIN, *args, "--log-level", "warn"], capture_output=True, text=True)
    assert (r.returncode == 0) == ok, r.stderr
    return r


def identify(out, *extra):
    sadi("identify", "--model", os.path.join(DATA, "sentiment"), "--pairs", PAIRS, "--out", out, "--top-k", "4",
         "--sites", "head,neuron,hidden,residual", *extra)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shards")
    files = [str(tmp / f"s{i}.h5") for i in (1, 2, 3)]
    for i, f in enumerate(files, 1):
        identify(f, "--shard", f"{i}/3")
    whole = str(tmp / "whole.h5")
    identify(whole, "--no-iti")
    return tmp, files, whole


def test_merged_shards_equal_the_unsharded_mask(shards):
    import h5py
    tmp, files, whole = shards
    merged = str(tmp / "merged.h5")
    sadi("merge", files[2], files[0], files[1], "--out", merged)
    with h5py.File(whole) as a, h5py.File(merged) as m:
        compared = 0
        for site in ("head", "neuron", "hidden", "residual"):
            for ds in DATASETS:
                if ds in a[site]:
                    assert a[site][ds][()].tobytes() == m[site][ds][()].tobytes(), (site, ds)
                    compared += 1
        assert compared == 25
        assert m.attrs["pairs_used"] == a.attrs["pairs_used"] == 150
        assert "shard" not in m.attrs and m.attrs["merged_shards"] in (b"3", "3")
    # each shard alone differs (the test can fail): its own third of the pairs
    with h5py.File(whole) as a, h5py.File(files[0]) as s:
        assert a["head"]["mean_diff"][()].tobytes() != s["head"]["mean_diff"][()].tobytes()
        assert s.attrs["pairs_used"] == 50
    # the merged mask steers like any mask
    sadi("eval", "--model", os.path.join(DATA, "sentiment"), "--task", os.path.join(ROOT, "tests", "data", "tiny",
         "test.jsonl"), "--mask", merged, "--top-k", "1", "--delta", "4", "--metric", "choice",
         "--out", str(tmp / "res.json"))


def test_merge_refuses_what_does_not_fit(shards):
    tmp, files, whole = shards
    out = str(tmp / "bad.h5")
    r = sadi("merge", files[0], files[1], "--out", out, ok=False)
    assert "shard 3/3 is missing" in r.stderr
    r = sadi("merge", files[0], files[0], files[1], files[2], "--out", out, ok=False)
    assert "given twice" in r.stderr
    r = sadi("merge", whole, files[1], files[2], "--out", out, ok=False)
    assert "whole.h5: attribute 'shard'" in r.stderr
    other = str(tmp / "other.h5")
    identify(other, "--shard", "1/3", "--rank", "abs")
    r = sadi("merge", other, files[1], files[2], "--out", out, ok=False)
    assert "attribute 'rank'" in r.stderr and "another run" in r.stderr
    assert not os.path.exists(out)
    r = sadi("identify", "--model", os.path.join(DATA, "sentiment"), "--pairs", PAIRS, "--out", out, "--shard", "1/3",
             "--bootstrap", "10", ok=False)
    assert "--bootstrap needs every pair" in r.stderr
