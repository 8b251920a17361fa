"""Exporter tests: every supported variant matches the independent naive forward; refusals
name the offending field; failures leave no output directory."""
import json
import os

import pytest
import torch

from conftest import export, load_cfg, make_hf, run_module, run_script
import naive_llama
from sadi_export.weights import load_state_dict
from tolerances import tol

TOL = tol("float32", "exporter_vs_reference")  # |logit| ~ 5 on these models


ROWS = [[1, 17, 99, 250, 3, 44, 310, 7, 8], [1, 300, 12, 5, 6]]


def check_variant(tmp_path, *args):
    hf = make_hf(tmp_path, "hf", *args)
    out = str(tmp_path / "m")
    r = export(hf, out)
    assert "parity eager_vs_scripted" in r.stderr
    sd, cfg = load_state_dict(hf), load_cfg(hf)
    got, _ = run_module(out, ROWS)
    for row, g in zip(ROWS, got):
        ref = naive_llama.forward(sd, cfg, row)
        assert (g - ref).abs().max().item() < TOL
    return out


@pytest.mark.parametrize("args", [
    ("--seed", "0"),
    ("--seed", "1", "--format", "sharded"),
    ("--seed", "2", "--format", "bin"),
    ("--seed", "3", "--arch", "qwen2"),
    ("--seed", "4", "--rope-scaling", "llama3"),
    ("--seed", "5", "--rope-scaling", "linear", "--tie", "yes"),
    ("--seed", "6", "--kv-heads", "4"),
    ("--seed", "7", "--arch", "qwen3"),
    ("--seed", "8", "--arch", "phi3"),
    ("--seed", "9", "--arch", "gemma"),
    ("--seed", "10", "--arch", "gemma2"),
    ("--seed", "12", "--arch", "gpt2", "--tokenizer", "json"),
    ("--seed", "13", "--arch", "bloom", "--heads", "6", "--kv-heads", "6", "--d-model", "48"),
])
def test_variant_matches_naive_reference(tmp_path, args):
    out = check_variant(tmp_path, *args)
    with open(os.path.join(out, "manifest.json")) as f:
        man = json.load(f)
    assert man["format_version"] == 2
    assert [s["name"] for s in man["sites"]] == ["head", "neuron", "hidden", "residual"]
    assert man["weights"]["fingerprint"].startswith("sha256:")


def test_reduced_precision_exports(tmp_path):
    hf = make_hf(tmp_path, "hf", "--seed", "0")
    sd, cfg = load_state_dict(hf), load_cfg(hf)
    ref = naive_llama.forward(sd, cfg, ROWS[0])
    for dtype, tol in (("bfloat16", 0.35), ("float16", 0.05)):
        out = str(tmp_path / dtype)
        export(hf, out, "--dtype", dtype, "--device", "cpu")
        with open(os.path.join(out, "manifest.json")) as f:
            assert json.load(f)["dtype"] == dtype
        m = torch.jit.load(os.path.join(out, "model.ts"))
        assert next(m.parameters()).dtype == getattr(torch, dtype)
        assert m.inv_freq.dtype == torch.float32
        if dtype == "bfloat16":  # float16 matmuls do not run on CPU
            got, _ = run_module(out, ROWS[:1])
            assert (got[0] - ref).abs().max().item() < tol


def test_steering_ops_match_formula(llama):
    hf, out = llama
    sd, cfg = load_state_dict(hf), load_cfg(hf)
    row = ROWS[0]
    t, dh, n_h = len(row), 16, 4
    delta = 3.0
    mask = torch.zeros(n_h * dh)
    mask[0:dh] = 1.0   # head 0
    mask[2 * dh:3 * dh] = 1.0  # head 2
    add = torch.linspace(-1, 1, 160)
    base = torch.linspace(0.5, -0.5, 64)
    bscale = (torch.arange(64) % 3 == 0).float() * 2.0
    last = t - 1

    def at_last(fn):
        def hook(layer, v):
            v = v.clone()
            v[last] = fn(layer, v[last])
            return v
        return hook

    hooks = {
        "head": at_last(lambda l, a: a + delta * a * mask if l == 1 else a),
        "neuron": at_last(lambda l, a: a + add if l == 0 else a),
        "residual": at_last(lambda l, a: base + base * bscale if l == 2 else a),  # clamp: edit of given values
    }
    ref = naive_llama.forward(sd, cfg, row, hooks=hooks)
    at = torch.zeros(1, t, dtype=torch.bool)
    at[0, last] = True
    steer = {"head.at": at, "head.1.scale": (delta * mask)[None],
             "neuron.at": at, "neuron.0.add": add[None],
             "residual.at": at, "residual.2.base": base[None], "residual.2.scale": bscale[None],
             "residual.2.base_rows": torch.tensor([True])}
    got, _ = run_module(out, [row], steer=steer)
    assert (got[0] - ref).abs().max().item() < TOL
    plain, _ = run_module(out, [row])
    assert (plain[0][:last] - got[0][:last]).abs().max().item() == 0.0  # earlier positions untouched
    assert (plain[0][last] - got[0][last]).abs().max().item() > 1e-3


def test_capture_matches_naive(llama):
    hf, out = llama
    sd, cfg = load_state_dict(hf), load_cfg(hf)
    record = {s: [] for s in ("head", "neuron", "hidden", "residual")}
    naive_llama.forward(sd, cfg, ROWS[1], record=record)
    pos = torch.tensor([[len(ROWS[1]) - 1, 0, 2]])
    _, cap = run_module(out, [ROWS[1]], capture={s: pos for s in record})
    for s, layers in record.items():
        ref = torch.stack([v[pos[0]] for v in layers], dim=1)  # [C, L, U]
        assert cap[s].shape == (1, 3, cfg["num_hidden_layers"], ref.shape[-1])
        assert (cap[s][0] - ref).abs().max().item() < TOL


def test_make_tiny_model_is_deterministic(tmp_path):
    a = make_hf(tmp_path, "a", "--seed", "7")
    b = make_hf(tmp_path, "b", "--seed", "7")
    for f in ("model.safetensors", "tokenizer.model", "config.json"):
        assert open(os.path.join(a, f), "rb").read() == open(os.path.join(b, f), "rb").read()


def _edit_config(hf, **changes):
    cfg = load_cfg(hf)
    cfg.update(changes)
    with open(os.path.join(hf, "config.json"), "w") as f:
        json.dump(cfg, f)


@pytest.mark.parametrize("changes,needle", [
    ({"model_type": "falcon"}, "'model_type'"),
    ({"hidden_act": "gelu"}, "'hidden_act'"),
    ({"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}, "'rope_scaling.rope_type'"),
    ({"num_key_value_heads": 3}, "'num_key_value_heads'"),
    ({"architectures": ["GPT2LMHeadModel"]}, "'architectures'"),
    ({"hidden_size": 32}, "expected shape"),
])
def test_refusals_name_the_field(tmp_path, changes, needle):
    hf = make_hf(tmp_path, "hf", "--seed", "0")
    _edit_config(hf, **changes)
    out = str(tmp_path / "m")
    r = export(hf, out, check=False)
    assert r.returncode == 1
    assert needle in r.stderr, r.stderr
    assert not os.path.exists(out)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".sadi-export-")]


def test_missing_tensor_and_existing_output(tmp_path):
    hf = make_hf(tmp_path, "hf", "--seed", "0", "--format", "bin")
    sd = torch.load(os.path.join(hf, "pytorch_model.bin"))
    del sd["model.layers.1.mlp.up_proj.weight"]
    torch.save(sd, os.path.join(hf, "pytorch_model.bin"))
    r = export(hf, str(tmp_path / "m"), check=False)
    assert r.returncode == 1 and "layers.1.mlp.up_proj.weight" in r.stderr
    hf2 = make_hf(tmp_path, "hf2", "--seed", "0")
    os.makedirs(tmp_path / "exists")
    r = export(hf2, str(tmp_path / "exists"), check=False)
    assert r.returncode == 1 and "already exists" in r.stderr


def test_truncated_safetensors_is_refused(tmp_path):
    hf = make_hf(tmp_path, "hf", "--seed", "0")
    p = os.path.join(hf, "model.safetensors")
    data = open(p, "rb").read()
    open(p, "wb").write(data[: len(data) // 2])
    r = export(hf, str(tmp_path / "m"), check=False)
    assert r.returncode == 1 and "model.safetensors" in r.stderr and "beyond the file" in r.stderr


@pytest.mark.parametrize("arch", ["llama", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gpt2", "bloom"])
def test_every_site_steers_every_architecture(tmp_path, arch):
    """No architecture may reach fewer than all four sites: scaling each site at the last
    position in every layer changes the last logits (and scale 0 changes nothing), and the
    steered module matches the naive reference with the same edit applied by hand."""
    hf = make_hf(tmp_path, "hf", "--seed", "11", "--arch", arch, *(["--tokenizer", "json"] if arch == "gpt2" else []))
    out = str(tmp_path / "m")
    export(hf, out)
    sd, cfg = load_state_dict(hf), load_cfg(hf)
    with open(os.path.join(out, "manifest.json")) as f:
        sites = {s["name"]: s for s in json.load(f)["sites"]}
    assert set(sites) == {"head", "neuron", "hidden", "residual"}
    row = ROWS[0]
    last = len(row) - 1
    at = torch.zeros(1, len(row), dtype=torch.bool)
    at[0, last] = True
    plain, _ = run_module(out, [row])
    n_layers = cfg.get("num_hidden_layers", cfg.get("n_layer"))
    for name, s in sites.items():
        units = s["units"]
        scale = torch.zeros(1, units)
        scale[0, : units // 2] = 2.0  # part of the site: a uniform scale is undone by Gemma 2's sandwich norms
        steer = {f"{name}.at": at}
        for layer in range(n_layers):
            steer[f"{name}.{layer}.scale"] = scale
        got, _ = run_module(out, [row], steer=steer)
        assert (got[0][last] - plain[0][last]).abs().max().item() > 1e-3, (arch, name)
        zero = {k: (torch.zeros_like(v) if k.endswith(".scale") else v) for k, v in steer.items()}
        same, _ = run_module(out, [row], steer=zero)
        assert torch.equal(same[0], plain[0]), (arch, name)

        def hook(layer, v):
            v = v.clone()
            v[last, : v.shape[1] // 2] = v[last, : v.shape[1] // 2] * 3.0
            return v
        ref = naive_llama.forward(sd, cfg, row, hooks={name: hook})
        assert (got[0] - ref).abs().max().item() < TOL, (arch, name)


def _set_batch_invariant(module, on):
    for _, sub in module.named_modules():
        if hasattr(sub, "batch_invariant"):
            sub.batch_invariant = on


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("arch", ["llama", "gpt2", "gemma2"])
def test_batch_invariant_mode(tmp_path, arch, threads):
    """docs/determinism.md: with batch_invariant set, every row's logits and captures are
    bit-identical alone and at any place in batches of 2..16 (same length, no padding), at one
    LibTorch thread and at two, and a position's logits do not depend on how many positions are
    asked for; the mode changes numbers only at float rounding. Rows alone run at one thread, so
    the batches at two also show the thread count changes nothing. The FFN width (172, not a multiple
    of 8) puts rows at every alignment of the vector kernels."""
    hf = make_hf(tmp_path, "hf", "--seed", "4", "--arch", arch, "--d-ffn", "172",
                 *(["--tokenizer", "json"] if arch == "gpt2" else []))
    export(hf, str(tmp_path / "m"))
    m = torch.jit.load(str(tmp_path / "m" / "model.ts"))
    vocab = load_cfg(hf)["vocab_size"]

    def run(rows, n_logits=1):
        b, t = len(rows), len(rows[0])
        ids = torch.tensor(rows)
        pos = torch.arange(t).expand(b, t).contiguous()
        at = torch.arange(t - n_logits, t).expand(b, n_logits).contiguous()
        cap = {s: torch.full((b, 1), t - 1, dtype=torch.long) for s in ("head", "neuron", "hidden", "residual")}
        with torch.no_grad():
            return m.forward(ids, pos, torch.ones(b, t, dtype=torch.bool), 0, [], [], at, {}, cap)

    g = torch.Generator().manual_seed(0)
    before = torch.get_num_threads()
    try:
        for t in (1, 9, 23, 81):
            rows = torch.randint(3, vocab, (16, t), generator=g).tolist()
            torch.set_num_threads(1)  # each row alone at one thread; the batches at `threads`
            _set_batch_invariant(m, False)
            plain = run(rows[:1])[0]
            _set_batch_invariant(m, True)
            alone = [run([r]) for r in rows]
            torch.testing.assert_close(alone[0][0], plain, rtol=0, atol=tol("float32", "layouts"))
            torch.set_num_threads(threads)
            for b in (2, 3, 7, 8, 16):
                logits, cap = run(rows[:b])
                for j in range(b):
                    assert torch.equal(logits[j], alone[j][0][0]), (t, b, j)
                    for s in cap:
                        assert torch.equal(cap[s][j], alone[j][1][s][0]), (t, b, j, s)
            more, _ = run(rows[:3], n_logits=min(t, 4))
            assert torch.equal(more[0, -1], alone[0][0][0, -1]), t
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gemma2", "gpt2", "bloom"])
def test_static_decode_step_equals_forward(tmp_path, arch):
    """decode() (the step a CUDA graph captures: slot as a tensor, the whole cache attended to
    under the key mask) gives forward()'s logits with start = slot, steered or not, and writes the
    same cache, over left-padded rows of different lengths."""
    hf = make_hf(tmp_path, "hf", "--seed", "5", "--arch", arch, *(["--tokenizer", "json"] if arch == "gpt2" else []))
    out = str(tmp_path / "m")
    export(hf, out)
    m = torch.jit.load(os.path.join(out, "model.ts"))
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    dims = manifest["dims"]
    units = {s["name"]: s["units"] for s in manifest["sites"]}
    n_layers, hkv, dh = dims["n_layers"], dims["n_kv_heads"], dims["head_dim"]
    rows, steps = ROWS, 5
    width = max(len(r) for r in rows)
    b, cap = len(rows), width + steps
    ids = torch.zeros(b, width, dtype=torch.long)
    mask = torch.zeros(b, cap, dtype=torch.bool)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r)
        mask[i, width - len(r):width] = True
    pos = (mask[:, :width].long().cumsum(1) - 1).clamp(min=0)
    caches = [([torch.zeros(b, hkv, cap, dh) for _ in range(n_layers)],
               [torch.zeros(b, hkv, cap, dh) for _ in range(n_layers)]) for _ in range(2)]
    with torch.no_grad():
        for k, v in caches:
            logits, _ = m(ids, pos, mask[:, :width], 0, k, v, torch.full((b, 1), width - 1), {}, {})
        nxt = logits[:, 0].argmax(-1, keepdim=True)
        lengths = torch.tensor([len(r) for r in rows]).unsqueeze(1)
        for step in range(steps):
            slot = width + step
            mask[:, slot] = True
            steer = {} if step % 2 else {"neuron.at": torch.ones(b, 1, dtype=torch.bool),
                                          "neuron.1.scale": torch.full((b, units["neuron"]), 0.7)}
            want, _ = m(nxt, lengths + step, mask[:, :slot + 1], slot, caches[0][0], caches[0][1],
                        torch.zeros(b, 1, dtype=torch.long), steer, {})
            got = m.decode(nxt, lengths + step, mask, torch.tensor([slot]), caches[1][0], caches[1][1], steer)
            assert got.shape == want[:, 0].shape
            assert (got - want[:, 0]).abs().max().item() < TOL, (arch, step)
            nxt = want[:, 0].argmax(-1, keepdim=True)
    for x, y in zip(caches[0][0] + caches[0][1], caches[1][0] + caches[1][1]):
        assert (x - y).abs().max().item() < TOL
