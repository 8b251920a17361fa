"""The baselines and clamp mode against independent Python computations on the trained
sentiment model (docs/baselines.md): CAA and ITI generations against a plain greedy loop that
recomputes the whole sequence each step and adds the edit itself; clamp mode against a
layer-by-layer two-pass procedure that uses only additive edits; ITI's directions and spreads
against a recomputation from captured activations. Needs SADI_BIN and SADI_TESTDATA (CTest)."""
import json
import os

import pytest
import torch

from conftest import DATA, TINY, needs_cli
from conftest import run_sadi as sadi

pytestmark = needs_cli


class Model:
    def __init__(self):
        import sentencepiece as spm
        self.dir = os.path.join(DATA, "sentiment")
        self.m = torch.jit.load(os.path.join(self.dir, "model.ts"))
        self.sp = spm.SentencePieceProcessor(model_file=os.path.join(self.dir, "tokenizer.model"))
        d = json.load(open(os.path.join(self.dir, "manifest.json")))["dims"]
        self.L, self.H, self.Dh = d["n_layers"], d["n_heads"], d["head_dim"]

    def encode(self, text):
        return [1] + self.sp.encode(text)

    def run(self, ids, steer=None, capture=None, logits_at=None):
        """One row, no cache: logits [N, V] at logits_at (default: the last token) and captures."""
        t = len(ids)
        at = torch.tensor([logits_at if logits_at is not None else [t - 1]])
        with torch.no_grad():
            logits, cap = self.m(torch.tensor([ids]), torch.arange(t)[None], torch.ones(1, t, dtype=torch.bool), 0,
                                 [], [], at, steer or {}, capture or {})
        return logits[0], cap


@pytest.fixture(scope="module")
def model():
    return Model()


@pytest.fixture(scope="module")
def mask(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("mask") / "mask.h5")
    sadi("identify", "--model", os.path.join(DATA, "sentiment"), "--pairs", os.path.join(TINY, "pairs.jsonl"),
         "--out", out, "--sites", "head,neuron,hidden,residual")
    return out


def prompts(n=4):
    items = [json.loads(line) for line in open(os.path.join(TINY, "test.jsonl"))]
    return items[:n]


def greedy_with_add(model, ids, site, adds, steps):
    """Greedy decoding that recomputes the whole sequence each step and adds adds[l] [U] to
    site `site` at layer l on every position from the last prompt token on."""
    n_p = len(ids)
    out = []
    for _ in range(steps):
        t = len(ids)
        at = torch.zeros(1, t, dtype=torch.bool)
        at[0, n_p - 1:] = True
        steer = {f"{site}.at": at}
        for layer, v in adds.items():
            steer[f"{site}.{layer}.add"] = v[None]
        logits, _ = model.run(ids, steer)
        nxt = int(logits[-1].argmax())
        out.append(nxt)
        ids = ids + [nxt]
    return out


def generate(model, mask, tmp_path, *flags):
    inp = tmp_path / "prompts.jsonl"
    inp.write_text("".join(json.dumps({"id": it["id"], "prompt": it["prompt"]}) + "\n" for it in prompts()))
    out = tmp_path / "out.jsonl"
    sadi("generate", "--model", model.dir, "--input", str(inp), "--out", str(out), "--mask", mask,
         "--max-new-tokens", "3", "--ignore-eos", "--batch-size", "3", *flags)
    return [json.loads(line) for line in open(out)]


def test_caa_adds_m_times_the_residual_mean_difference_from_the_last_prompt_token_on(model, mask, tmp_path):
    import h5py
    with h5py.File(mask, "r") as f:
        v = torch.tensor(f["residual"]["mean_diff"][()])  # [L, d]
    got = generate(model, mask, tmp_path, "--method", "caa", "--layers", "2", "--delta", "40")
    assert got[0]["steering"]["steer_positions"] == "from-prompt-last"
    changed = 0
    for it, g in zip(prompts(), got):
        want = greedy_with_add(model, model.encode(it["prompt"]), "residual", {2: 40.0 * v[2]}, 3)
        assert g["output_ids"] == want, it["id"]
        changed += want != greedy_with_add(model, model.encode(it["prompt"]), "residual", {}, 3)
    assert changed > 0  # the edit matters on these prompts: the comparison can fail


def test_iti_adds_alpha_sigma_theta_on_the_best_probed_heads(model, mask, tmp_path):
    import h5py
    with h5py.File(mask, "r") as f:
        g = f["head"]["iti"]
        theta, sigma, rank = torch.tensor(g["direction"][()]), torch.tensor(g["sigma"][()]), g["ranking"][:2]
    adds = {}
    for layer, head in rank:
        sl = slice(head * model.Dh, (head + 1) * model.Dh)
        adds.setdefault(int(layer), torch.zeros(model.H * model.Dh))[sl] = 30.0 * sigma[layer, head] * theta[layer, sl]
    got = generate(model, mask, tmp_path, "--method", "iti", "--top-k", "2", "--delta", "30")
    changed = 0
    for it, g in zip(prompts(), got):
        want = greedy_with_add(model, model.encode(it["prompt"]), "head", adds, 3)
        assert g["output_ids"] == want, it["id"]
        changed += want != greedy_with_add(model, model.encode(it["prompt"]), "head", {}, 3)
    assert changed > 0


@pytest.fixture(scope="module")
def head_captures(model):
    """Each pair's head activations at its last token, one sequence at a time, as identify reads
    them (stripped, one space): pos, neg [N, L, H*Dh] float64."""
    pairs = [json.loads(line) for line in open(os.path.join(TINY, "pairs.jsonl"))]
    pos, neg = [], []
    for p in pairs:
        for side, acc in ((p["positive"], pos), (p["negative"], neg)):
            ids = model.encode(p["prompt"].strip() + " " + side.strip())
            _, cap = model.run(ids, capture={"head": torch.tensor([[len(ids) - 1]])})
            acc.append(cap["head"][0, 0].double())  # [L, H*Dh]
    return torch.stack(pos), torch.stack(neg)


def test_iti_directions_and_spreads_equal_a_recomputation(model, mask, head_captures):
    import h5py
    pos, neg = head_captures
    shift = (pos - neg).mean(0).view(model.L, model.H, model.Dh)
    theta = shift / shift.norm(dim=-1, keepdim=True)
    proj = (torch.cat([pos, neg]).view(-1, model.L, model.H, model.Dh) * theta).sum(-1)
    with h5py.File(mask, "r") as f:
        g = f["head"]["iti"]
        got = torch.tensor(g["direction"][()]).double()
        # float32 captures, batched in sadi and one by one here: 1.8e-5 seen with LibTorch 2.11
        assert torch.allclose(got, theta.reshape(model.L, -1), atol=5e-5), (got - theta.reshape(model.L, -1)).abs().max()
        assert torch.allclose(torch.tensor(g["sigma"][()]).double(), proj.std(0, unbiased=False), rtol=1e-4, atol=1e-6)
        acc = g["probe_accuracy"][()]
        order = [acc[layer, head] for layer, head in g["ranking"][()]]
        assert order == sorted(order, reverse=True)
        n_val = int(g.attrs["val_pairs"])
        assert n_val == 30 and int(g.attrs["train_pairs"]) == 120  # 20% of 150 pairs held out
        assert ((acc * 2 * n_val).round() - acc * 2 * n_val).__abs__().max() < 1e-3  # a share of 2 * n_val


def test_iti_probe_accuracies_equal_scikit_learn_on_the_same_split(model, mask, head_captures):
    """Each head's held-out probe accuracy against scikit-learn's LogisticRegression (C = 1,
    intercept: honest_llama's probe) fitted on the same captured activations and the same
    train/validation split (the mask records the held-out pairs); the ranking against honest_llama's
    np.argsort(acc)[::-1] (stable). Swapped labels, a leak of the held-out pairs into training or
    another regularisation would each change some accuracy."""
    import h5py
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    pos, neg = (x.view(x.size(0), model.L, model.H, model.Dh).numpy() for x in head_captures)  # [N, L, H, Dh]
    with h5py.File(mask, "r") as f:
        g = f["head"]["iti"]
        got, ranking, val = g["probe_accuracy"][()], g["ranking"][()], g["val_index"][()]
    train = np.setdiff1d(np.arange(len(pos)), val)
    want = np.zeros((model.L, model.H))
    for layer in range(model.L):
        for head in range(model.H):
            x = lambda rows: np.concatenate([pos[rows, layer, head], neg[rows, layer, head]])  # noqa: E731
            y = lambda rows: np.concatenate([np.ones(len(rows)), np.zeros(len(rows))])  # noqa: E731
            clf = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(x(train), y(train))
            want[layer, head] = (clf.predict(x(val)) == y(val)).mean()
    step = 1 / (2 * len(val))  # one held-out sequence
    # float32 captures (sadi batched, here one by one) move a point near a boundary at most one step
    assert np.abs(got - want).max() <= step + 1e-6, np.abs(got - want).max()
    assert (np.abs(got - want) > 1e-6).mean() <= 0.05, np.argwhere(np.abs(got - want) > 1e-6)
    assert len(set(np.round(got.ravel(), 6))) > 1  # the heads differ: the comparison can fail
    flat = np.argsort(got.reshape(-1).astype(np.float32), kind="stable")[::-1]
    assert [tuple(r) for r in ranking] == [(i // model.H, i % model.H) for i in flat]


@pytest.mark.parametrize("site", ["head", "neuron", "hidden"])
def test_clamp_equals_a_two_pass_procedure_with_additive_edits(model, mask, tmp_path, site):
    """Clamp: the whole site at the last prompt token is overwritten, in every layer, with its
    clean value edited by SADI. Here: read the clean values, then fix layer after layer with
    additive edits only (add = target - the value the forward now has there)."""
    import h5py
    items = prompts(12)
    task = tmp_path / "task.jsonl"
    task.write_text("".join(json.dumps(x) + "\n" for x in items))
    out = str(tmp_path / "res.json")
    k, delta = 2, 19.0
    sadi("eval", "--model", model.dir, "--task", str(task), "--mask", mask, "--site", site, "--top-k", str(k),
         "--delta", str(delta), "--mode", "clamp", "--metric", "choice", "--out", out)
    res = json.load(open(out))
    with h5py.File(mask, "r") as f:
        g = f[site]
        rank, group = g["ranking"][:k], int(g.attrs["group"])
        units = int(g.attrs["units"]) * group
    m = torch.zeros(model.L, units)
    for layer, unit in rank:
        m[layer, unit * group:(unit + 1) * group] = 1.0
    point = [p for p in res["points"] if p["method"] == "sadi"][0]
    for it, got in zip(items, point["test"]["loglik"]):
        p_ids = model.encode(it["prompt"])
        last = len(p_ids) - 1
        cap = {site: torch.tensor([[last]])}
        _, clean = model.run(p_ids, capture=cap)
        target = clean[site][0, 0].double() * (1 + delta * m.double())  # [L, U]
        scores = []
        for choice in it["choices"]:
            ids = model.encode(it["prompt"] + " " + choice)
            at = torch.zeros(1, len(ids), dtype=torch.bool)
            at[0, last] = True
            steer = {f"{site}.at": at}
            for layer in range(model.L):  # layer by layer: the forward's value there, then the correction
                _, now = model.run(ids, steer, capture={site: torch.tensor([[last]])})
                steer[f"{site}.{layer}.add"] = (target[layer] - now[site][0, 0, layer].double()).float()[None]
            logits, _ = model.run(ids, steer, logits_at=list(range(last, len(ids) - 1)))
            logp = torch.log_softmax(logits.double(), -1)
            scores.append(sum(float(logp[i, tok]) for i, tok in enumerate(ids[last + 1:])))
        assert got == pytest.approx(scores, abs=2e-4), it["id"]
    unsteered = res["points"][0]["test"]["loglik"]
    assert all(max(abs(a - b) for a, b in zip(u, s)) > 1e-3 for u, s in zip(unsteered, point["test"]["loglik"]))


def test_caa_in_teacher_forced_scoring_steers_every_answer_token(model, mask, tmp_path):
    """eval: the answer tokens are steered as generated ones would be (from the last prompt token
    on). Each item's choice is recomputed in Python with the edit on exactly those positions."""
    import h5py
    with h5py.File(mask, "r") as f:
        v = torch.tensor(f["residual"]["mean_diff"][()])
    items = prompts(30)
    for it in items:  # answers of several tokens: the later ones are predicted from steered answer tokens
        it["choices"] = [c + " , truly ." for c in it["choices"]]
        it["answer"] += " , truly ."
    task = tmp_path / "task.jsonl"
    task.write_text("".join(json.dumps(x) + "\n" for x in items))
    out = str(tmp_path / "res.json")
    sadi("eval", "--model", model.dir, "--task", str(task), "--mask", mask, "--baselines", "caa", "--caa-layers", "1",
         "--caa-multipliers", "60", "--metric", "choice", "--out", out)
    res = json.load(open(out))
    point = [p for p in res["points"] if p["method"] == "caa"][0]

    def logliks(it, steer):
        p_ids = model.encode(it["prompt"])
        last = len(p_ids) - 1
        out = []
        for choice in it["choices"]:
            ids = model.encode(it["prompt"] + " " + choice)
            at = torch.zeros(1, len(ids), dtype=torch.bool)
            at[0, last:] = True  # the last prompt token and every answer token
            s = {"residual.at": at, "residual.1.add": (60.0 * v[1])[None]} if steer else {}
            logits, _ = model.run(ids, s, logits_at=list(range(last, len(ids) - 1)))
            logp = torch.log_softmax(logits.double(), -1)
            out.append(sum(float(logp[i, tok]) for i, tok in enumerate(ids[last + 1:])))
        return out

    moved = 0
    for it, got in zip(items, point["test"]["loglik"]):
        want = logliks(it, True)
        assert got == pytest.approx(want, abs=1e-4), it["id"]
        moved += max(abs(a - b) for a, b in zip(want, logliks(it, False))) > 1e-3
    assert moved == len(items)  # the edit changes every item's scores: the comparison can fail
