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


def run_script(name, *args, check=True):
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
