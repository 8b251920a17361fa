"""transformers as the reference (issue 27, CTest label `hf`): for a seeded random checkpoint of
each supported architecture (Llama, Mistral, Qwen2, Qwen3, Phi-3, Gemma, Gemma 2, GPT-2, BLOOM),
in float32 on CPU:

- logits: the exported model.ts (the module the sadi binary runs; the `model` tests hold the C++
  runtime to it) on a left-padded batch vs transformers on each row alone, within
  1e-4 x max(1, max |logit|);
- greedy ids: `sadi generate --ignore-eos` (the binary, KV cache and all) vs a greedy loop that
  recomputes the whole sequence in transformers at every step;
- site captures: model.ts's captures of all four sites at every position vs forward hooks on
  transformers' own modules (head: the o_proj input; neuron: the activation's output; hidden: the
  MLP's down projection output; residual: the decoder layer's output; docs/model-directory.md);
- steering: model.ts with a head-site scale at the last position in every layer (A + scale*A)
  vs transformers with the same edit made by a hook on the o_proj input.

Needs SADI_BIN and SADI_TESTDATA for the greedy check (run through ctest)."""
import json
import os
import subprocess

import pytest
import torch

from conftest import BIN, export, make_hf, needs_cli, run_module
from tolerances import tol

ARCHS = ["llama", "mistral", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gpt2", "bloom"]
TOL = tol("float32", "transformers_relative")      # x max(1, max |logit|)
CAP_TOL = tol("float32", "transformers_relative")  # x max(1, max |activation|)
ROWS = [[1, 17, 99, 250, 3, 44, 310, 7, 8], [1, 300, 12, 5, 6], [1, 2, 3]]
N_NEW = 12


def hf_modules(model, arch):
    """Per layer: the transformers modules whose input/output are the four sites."""
    if arch == "gpt2":
        return [dict(head=b.attn.c_proj, neuron=b.mlp.act, hidden=b.mlp.c_proj, residual=b)
                for b in model.transformer.h]
    if arch == "bloom":
        return [dict(head=b.self_attention.dense, neuron=b.mlp.gelu_impl, hidden=b.mlp.dense_4h_to_h, residual=b)
                for b in model.transformer.h]
    act = "activation_fn" if arch == "phi3" else "act_fn"
    return [dict(head=l.self_attn.o_proj, neuron=getattr(l.mlp, act), hidden=l.mlp.down_proj, residual=l)
            for l in model.model.layers]


def first(x):
    return x[0] if isinstance(x, tuple) else x


def hf_run(model, arch, row, edit_head=None):
    """transformers on one row: logits [T, V] and captures {site: [T, L, units]}.
    edit_head(layer, x [1, T, H*Dh]) -> x': an edit of the o_proj input."""
    caps = {s: [] for s in ("head", "neuron", "hidden", "residual")}
    handles = []
    for layer, mods in enumerate(hf_modules(model, arch)):
        def pre(mod, args, layer=layer):
            x = args[0]
            if edit_head is not None:
                x = edit_head(layer, x)
            caps["head"].append(x[0].detach().clone())
            return (x,) + tuple(args[1:])
        handles.append(mods["head"].register_forward_pre_hook(pre))
        for site in ("neuron", "hidden", "residual"):
            def post(mod, args, out, site=site):
                caps[site].append(first(out)[0].detach().clone())
            handles.append(mods[site].register_forward_hook(post))
    try:
        with torch.no_grad():
            logits = model(torch.tensor([row])).logits[0]
    finally:
        for h in handles:
            h.remove()
    return logits, {s: torch.stack(v, 1) for s, v in caps.items()}  # [T, L, units]


def ts_run(model_dir, rows, steer=None, capture_all=False):
    """model.ts on a left-padded batch: per-row logits [len, V] and captures [len, L, units]."""
    logits, caps = run_module(model_dir, rows, steer=steer, capture="all" if capture_all else None)
    t = max(len(r) for r in rows)
    return logits, [{s: c[i, t - len(r):] for s, c in caps.items()} for i, r in enumerate(rows)]


def rel_diff(a, b):
    return (a - b).abs().max().item() / max(1.0, b.abs().max().item())


@pytest.fixture(scope="module", params=ARCHS)
def pair(request, tmp_path_factory):
    """(arch, hf_dir, model_dir, transformers model) of a seeded random checkpoint."""
    from transformers import AutoModelForCausalLM
    arch = request.param
    tmp = tmp_path_factory.mktemp(f"hf-{arch}")
    hf = make_hf(tmp, "hf", "--seed", "21", "--arch", arch, *(["--tokenizer", "json"] if arch == "gpt2" else []))
    out = str(tmp / "m")
    export(hf, out)
    model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32, attn_implementation="eager").eval()
    return arch, hf, out, model


def test_logits_equal_transformers(pair):
    arch, _, out, model = pair
    got, _ = ts_run(out, ROWS)
    for r, g in zip(ROWS, got):
        want, _ = hf_run(model, arch, r)
        assert rel_diff(g, want) <= TOL, (arch, r, rel_diff(g, want))


def test_site_captures_equal_transformers_hooks(pair):
    arch, _, out, model = pair
    _, caps = ts_run(out, ROWS, capture_all=True)
    for r, c in zip(ROWS, caps):
        _, want = hf_run(model, arch, r)
        for site in ("head", "neuron", "hidden", "residual"):
            got = c[site].reshape(want[site].shape)
            assert rel_diff(got, want[site]) <= CAP_TOL, (arch, site, r, rel_diff(got, want[site]))


def test_steered_head_equals_a_transformers_hook(pair):
    arch, _, out, model = pair
    row = ROWS[0]
    last = len(row) - 1
    with open(os.path.join(out, "manifest.json")) as f:
        units = {s["name"]: s["units"] for s in json.load(f)["sites"]}["head"]
    n_layers = len(hf_modules(model, arch))
    g = torch.Generator().manual_seed(3)
    scales = [torch.where(torch.rand(units, generator=g) < 0.25, 4.0, 0.0) for _ in range(n_layers)]  # delta * M
    at = torch.zeros(1, len(row), dtype=torch.bool)
    at[0, last] = True
    steer = {"head.at": at, **{f"head.{l}.scale": scales[l].unsqueeze(0) for l in range(n_layers)}}
    got, _ = ts_run(out, [row], steer=steer)
    plain, _ = ts_run(out, [row])

    def edit(layer, x):
        x = x.clone()
        x[0, last] = x[0, last] + scales[layer] * x[0, last]
        return x
    want, _ = hf_run(model, arch, row, edit_head=edit)
    assert rel_diff(got[0][last], plain[0][last]) > 1e-3, arch  # the edit matters
    assert rel_diff(got[0], want) <= TOL, (arch, rel_diff(got[0], want))


@needs_cli
def test_sadi_generate_greedy_ids_equal_transformers(pair, tmp_path):
    arch, _, out, model = pair
    prompt = "The movie was good and"
    ids = json.loads(subprocess.run([BIN, "tokenize", out, "--text", prompt], capture_output=True, text=True,
                                    check=True).stdout)
    inp = tmp_path / "p.jsonl"
    inp.write_text(json.dumps({"prompt": prompt}) + "\n")
    r = subprocess.run([BIN, "generate", "--model", out, "--input", str(inp), "--max-new-tokens", str(N_NEW),
                        "--ignore-eos", "--log-level", "warn"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ours = json.loads(r.stdout)["output_ids"]
    seq = list(ids)
    with torch.no_grad():
        for _ in range(N_NEW):
            seq.append(int(model(torch.tensor([seq])).logits[0, -1].argmax()))
    assert ours == seq[len(ids):], (arch, ours, seq[len(ids):])
