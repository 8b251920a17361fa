import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts")
sys.path.insert(0, SCRIPTS)
sys.path.insert(0, os.path.dirname(__file__))
PY = sys.executable


# Scripts whose main() the tests call in this process: each subprocess would import torch again
# (about 1.5 s each, some 70 calls per run). SADI_TEST_SUBPROCESS=1 runs them as processes.
IN_PROCESS = {"make_tiny_model.py", "export_hf.py"}


# What the tests of the sadi binary share (set by CTest): the binary, the fixtures' models, the
# shipped tiny-model data, a marker that skips them outside CTest, and a runner.
BIN = os.environ.get("SADI_BIN")
DATA = os.environ.get("SADI_TESTDATA")
TINY = os.path.join(ROOT, "tests", "data", "tiny")
needs_cli = pytest.mark.skipif(not BIN or not DATA, reason="needs SADI_BIN and SADI_TESTDATA (run through ctest)")


def run_sadi(*args):
    """Runs the sadi binary; asserts exit 0 (stderr in the message); returns the CompletedProcess."""
    r = subprocess.run([BIN, *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r

def _run_in_process(name, args):
    import contextlib
    import importlib.util
    import io
    import traceback
    path = os.path.join(SCRIPTS, name)
    spec = importlib.util.spec_from_file_location("_sadi_script_" + name[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = [path, *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = module.main()
            except SystemExit as e:  # argparse errors
                code = e.code if isinstance(e.code, int) else 1
            except Exception:  # as the interpreter would: a traceback and exit status 1
                traceback.print_exc(file=err)
                code = 1
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess([PY, path, *args], code or 0, out.getvalue(), err.getvalue())


def run_script(name, *args, check=True):
    if name in IN_PROCESS and os.environ.get("SADI_TEST_SUBPROCESS") != "1":
        r = _run_in_process(name, [str(a) for a in args])
    else:
        r = subprocess.run([PY, os.path.join(SCRIPTS, name), *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{name} {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r


def make_hf(tmp, name, *args):
    out = os.path.join(str(tmp), name)
    run_script("make_tiny_model.py", "--out", out, *args)
    return out


def export(hf, out, *args, check=True):
    return run_script("export_hf.py", "--hf-dir", hf, "--out", out, *args, check=check)


def run_module(model_dir, rows, steer=None, capture=None):
    """Runs model.ts on a left-padded batch; returns per-row logits [len, V] and the captures as
    the module returns them ([B, n, L, units] at the positions asked for)."""
    import torch
    m = torch.jit.load(os.path.join(model_dir, "model.ts"))
    t = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), t, dtype=torch.long)
    mask = torch.zeros(len(rows), t, dtype=torch.bool)
    for i, r in enumerate(rows):
        ids[i, t - len(r):] = torch.tensor(r)
        mask[i, t - len(r):] = True
    pos = (mask.long().cumsum(1) - 1).clamp(min=0)
    at = torch.arange(t).repeat(len(rows), 1)
    if capture == "all":  # every site at every position
        capture = {s: at for s in ("head", "neuron", "hidden", "residual")}
    with torch.no_grad():
        logits, cap = m(ids, pos, mask, 0, [], [], at, steer or {}, capture or {})
    return [logits[i, t - len(r):] for i, r in enumerate(rows)], cap


def load_cfg(hf):
    with open(os.path.join(hf, "config.json")) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def llama(tmp_path_factory):
    """(hf_dir, model_dir) of the default tiny llama, seed 0 (read-only). CTest's fixtures
    (tests/fixtures/make_fixtures.sh) already hold it; made here only without them."""
    data = os.environ.get("SADI_TESTDATA", "")
    if data and os.path.exists(os.path.join(data, ".complete")):
        return os.path.join(data, "hf-llama"), os.path.join(data, "llama")
    tmp = tmp_path_factory.mktemp("llama")
    hf = make_hf(tmp, "hf", "--seed", "0")
    out = os.path.join(str(tmp), "model")
    export(hf, out)
    return hf, out
