"""Determinism (issue 9, docs/determinism.md): the same command writes the same bytes, run after
run (identify's HDF5 mask, eval's results); across batch sizes every mask dataset is
bit-identical and eval's results are identical. Needs SADI_BIN and SADI_TESTDATA (CTest)."""
import json
import os
import subprocess

import pytest

BIN = os.environ.get("SADI_BIN")
DATA = os.environ.get("SADI_TESTDATA")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TINY = os.path.join(ROOT, "tests", "data", "tiny")
pytestmark = pytest.mark.skipif(not BIN or not DATA, reason="needs SADI_BIN and SADI_TESTDATA (run through ctest)")


def identify(out, batch, threads=None):
    subprocess.run([BIN, "identify", "--model", os.path.join(DATA, "sentiment"), "--pairs",
                    os.path.join(TINY, "pairs.jsonl"), "--out", out, "--top-k", "8", "--batch-size", str(batch),
                    "--log-level", "warn", *(["--threads", str(threads)] if threads else [])], check=True)


def evaluate(mask, out, batch, metric="choice", threads=None):
    return subprocess.run([BIN, "eval", "--model", os.path.join(DATA, "sentiment"), "--task", os.path.join(TINY, "test.jsonl"),
                           "--dev", os.path.join(TINY, "dev.jsonl"), "--mask", mask, "--site", "head", "--top-k", "1,2",
                           "--delta", "19", "--baselines", "none,random", "--random-seeds", "1", "--metric", metric,
                           "--batch-size", str(batch), "--out", out, "--log-level", "info",
                           *(["--threads", str(threads)] if threads else [])],
                          check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def mask8(tmp_path_factory):
    """identify at batch 8, shared by both tests."""
    out = str(tmp_path_factory.mktemp("mask8") / "mask.h5")
    identify(out, 8)
    return out


def test_same_command_same_bytes(tmp_path, mask8):
    out = mask8  # the same command again (the path is part of the provenance)
    first = open(out, "rb").read()
    identify(out, 8)
    assert open(out, "rb").read() == first, "identify wrote different bytes for the same command"
    res = str(tmp_path / "res.json")
    evaluate(out, res, 16)
    first = open(res, "rb").read()
    evaluate(out, res, 16)
    assert open(res, "rb").read() == first, "eval wrote different bytes for the same command"
    text = first.decode()
    assert "created" not in text and "seconds" not in text


def test_batch_sizes(tmp_path, mask8):
    import h5py
    masks = {8: mask8}
    for b in (1, 3):
        masks[b] = str(tmp_path / f"mask{b}.h5")
        identify(masks[b], b)
    with h5py.File(masks[1]) as a:
        for b in (3, 8):
            with h5py.File(masks[b]) as o:
                # every dataset bit-identical (batch-invariant mode, the default)
                for site in ("head", "neuron", "hidden", "residual"):
                    names = []  # every dataset, subgroups (/head/iti) included
                    a[site].visititems(lambda n, obj: names.append(n) if isinstance(obj, h5py.Dataset) else None)
                    assert "iti/probe_accuracy" in names or site != "head"
                    for name in names:
                        assert a[site][name][()].tobytes() == o[site][name][()].tobytes(), (b, site, name)
                # the provenance differs only in what the command says
                differ = {k for k in set(a.attrs) | set(o.attrs) if k not in a.attrs or k not in o.attrs
                          or str(a.attrs[k]) != str(o.attrs[k])}
                assert differ == {"command_line", "batch_size"}, differ
    results = []
    for b in (1, 7, 64):
        res = str(tmp_path / f"res{b}.json")
        evaluate(masks[1], res, b)
        r = json.load(open(res))
        r.pop("command_line")
        results.append(r)
    assert results[0] == results[1] == results[2], "eval results differ across batch sizes"


def test_thread_counts(tmp_path):
    """Batch-invariant mode keeps every --threads (the export's elementwise functions and norms run
    in fixed pieces, docs/determinism.md) and the thread count changes no number: masks and eval
    results at 1, 2 and 3 threads are identical (2 and 3 split the work at other places)."""
    import h5py
    masks, results = {}, []
    for t in (1, 2, 3):
        masks[t] = str(tmp_path / f"mask{t}.h5")
        identify(masks[t], 5, threads=t)
        res = str(tmp_path / f"res{t}.json")
        log = evaluate(masks[1], res, 7, threads=t).stderr
        assert "-> 1" not in log, log  # no "LibTorch intra-op threads N -> 1"
        r = json.load(open(res))
        r.pop("command_line")
        results.append(r)
    assert results[0] == results[1] == results[2], "eval results differ across thread counts"
    with h5py.File(masks[1]) as a:
        for t in (2, 3):
            with h5py.File(masks[t]) as o:
                for site in ("head", "neuron", "hidden", "residual"):
                    names = []
                    a[site].visititems(lambda n, obj: names.append(n) if isinstance(obj, h5py.Dataset) else None)
                    for name in names:
                        assert a[site][name][()].tobytes() == o[site][name][()].tobytes(), (t, site, name)
