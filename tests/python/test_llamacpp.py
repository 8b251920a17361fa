"""llama.cpp as an independent oracle (issue 17): sadi's greedy ids equal llama.cpp's on two tiny
Llama models (grouped-query attention with a 512-token vocabulary; full multi-head attention
with a vocabulary padded beyond its tokenizer's), fed the same token ids. llama.cpp runs through
node-llama-cpp 3.21.1's prebuilt CPU library (scripts/bench/llamacpp, `npm ci`), the checkpoint
through our own GGUF converter (scripts/bench/to_gguf.py). CTest label `llamacpp`; skipped with
the reason where npm or its registry is unreachable. Needs SADI_BIN and SADI_TESTDATA."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import BIN, DATA, ROOT, export, make_hf, needs_cli, run_script

PEER = os.path.join(ROOT, "scripts", "bench", "llamacpp")
N_NEW = 32
PROMPTS = ["The movie was", "Snow is white and the sky is blue because",
           " ".join(["a long and winding review of a film"] * 12)]


@pytest.fixture(scope="module")
def peer():
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm/node not installed (apt-get install nodejs npm)")
    if not os.path.exists(os.path.join(PEER, "node_modules", "node-llama-cpp")):
        r = subprocess.run(["npm", "ci", "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=PEER,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            pytest.skip(f"npm ci failed (registry unreachable?): {r.stderr.strip()[-300:]}")
    return PEER


def llamacpp_ids(gguf, ids, tmp_path, threads=2):
    ids_file = tmp_path / "ids.json"
    ids_file.write_text(json.dumps(ids))
    r = subprocess.run(["node", "run.mjs", gguf, str(ids_file), str(N_NEW), str(threads)], cwd=PEER,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])["ids"]


def sadi_greedy(model, prompt, tmp_path):
    ids = json.loads(subprocess.run([BIN, "tokenize", model, "--text", prompt], capture_output=True, text=True,
                                    check=True).stdout)
    inp = tmp_path / "p.jsonl"
    inp.write_text(json.dumps({"prompt": prompt}) + "\n")
    out = subprocess.run([BIN, "generate", "--model", model, "--input", str(inp), "--max-new-tokens", str(N_NEW),
                          "--ignore-eos", "--log-level", "warn"], capture_output=True, text=True, check=True).stdout
    return ids, json.loads(out)["output_ids"]


@needs_cli
@pytest.mark.parametrize("name", ["gqa-512", "mha-padded-vocab"])
def test_greedy_ids_equal_llamacpp(peer, tmp_path, name):
    if name == "gqa-512":  # the fixtures' seed-0 Llama: 3 layers, d 64, 4 query / 2 key-value heads
        hf, model = os.path.join(DATA, "hf-llama"), os.path.join(DATA, "llama")
    else:
        hf = make_hf(tmp_path, "hf", "--seed", "5", "--layers", "4", "--d-model", "128", "--heads", "8",
                     "--kv-heads", "8", "--d-ffn", "352", "--vocab-size", "1024")
        model = str(tmp_path / "model")
        export(hf, model)
    gguf = str(tmp_path / "model.gguf")
    run_script(os.path.join("bench", "to_gguf.py"), "--hf-dir", hf, "--out", gguf)
    for prompt in PROMPTS:
        ids, ours = sadi_greedy(model, prompt, tmp_path)
        theirs = llamacpp_ids(gguf, ids, tmp_path)
        assert ours == theirs, f"{name}, prompt {prompt[:30]!r}: sadi {ours} vs llama.cpp {theirs}"
