"""llama.cpp as an independent oracle (issue 17, issue 27): sadi's greedy ids equal llama.cpp's on
two tiny Llama models (grouped-query attention with a 512-token vocabulary; full multi-head
attention with a vocabulary padded beyond its tokenizer's), fed the same token ids, and
llama.cpp's logits along that path equal transformers' on the Hugging Face checkpoint. llama.cpp
is built from llama-cpp-python's vendored source (scripts/fetch_assets.sh) with our greedy driver
(scripts/bench/llamacpp/build.sh); the checkpoint goes through our own GGUF converter
(scripts/bench/to_gguf.py). CTest label `llamacpp`. Needs SADI_BIN and SADI_TESTDATA."""
import json
import os
import subprocess

import numpy as np
import pytest
import torch

from conftest import BIN, DATA, ROOT, export, make_hf, needs_cli, run_script
from tolerances import tol

BUILD = os.path.join(ROOT, "scripts", "bench", "llamacpp", "build.sh")
N_NEW = 32
PROMPTS = ["The movie was", "Snow is white and the sky is blue because",
           " ".join(["a long and winding review of a film"] * 12)]
LOGIT_TOL = tol("float32", "llamacpp_logits_relative")  # float32 both sides, different kernels and summation orders


@pytest.fixture(scope="module")
def peer():
    r = subprocess.run(["bash", BUILD], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f"scripts/bench/llamacpp/build.sh failed:\n{r.stderr[-2000:]}"
    return r.stdout.strip().splitlines()[-1]


def llamacpp_run(peer, gguf, ids, tmp_path, threads=2):
    """llama.cpp's greedy ids and its logits [N_NEW, V] (prompt's last position, then each step)."""
    ids_file, logits_file = tmp_path / "ids.json", tmp_path / "logits.f32"
    ids_file.write_text(json.dumps(ids))
    r = subprocess.run([peer, gguf, str(ids_file), str(N_NEW), str(threads), "1", "--logits", str(logits_file)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])["ids"]
    return out, np.fromfile(logits_file, dtype=np.float32).reshape(N_NEW, -1)


def transformers_logits(model, ids, new_ids):
    """transformers' logits at the prompt's last position and each generated one but the last."""
    with torch.no_grad():
        full = torch.tensor([ids + new_ids[:-1]])
        return model(full).logits[0, len(ids) - 1:].numpy()


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
    from transformers import AutoModelForCausalLM
    ref_model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32, attn_implementation="eager").eval()
    for prompt in PROMPTS:
        ids, ours = sadi_greedy(model, prompt, tmp_path)
        theirs, logits = llamacpp_run(peer, gguf, ids, tmp_path)
        assert ours == theirs, f"{name}, prompt {prompt[:30]!r}: sadi {ours} vs llama.cpp {theirs}"
        ref = transformers_logits(ref_model, ids, theirs)
        vocab = ref.shape[1]  # llama.cpp's rows may be padded past the checkpoint's vocabulary
        diff = float(np.abs(logits[:, :vocab] - ref).max())
        scale = max(1.0, float(np.abs(ref).max()))
        assert diff <= LOGIT_TOL * scale, f"{name}, prompt {prompt[:30]!r}: max |logit diff| {diff:.2e}"
