"""sadi eval: a Python port of the reference code's exact-match scoring on crafted cases and on
the tiny model (teacher-forced greedy, per item), the results schema, and that dev selection
does not read test labels. Needs SADI_BIN and SADI_TESTDATA (set by CTest) for the model tests."""
import json
import os
import subprocess

import pytest
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SADI_BIN")
DATA = os.environ.get("SADI_TESTDATA")
TASK = os.path.join(ROOT, "tests", "data", "task_small.jsonl")
PAIRS = os.path.join(ROOT, "tests", "data", "pairs_small.jsonl")
PUNCT = ['.</s>', '.\n', '.', ';', '!', ',', '?', '\n', '</s>', '<pad>']
needs_bin = pytest.mark.skipif(not BIN or not DATA, reason="needs SADI_BIN and SADI_TESTDATA (run through ctest)")


def reference_match(pred, gold):
    """The reference code's rule, ported line by line: the prediction is stripped, then each
    listed string is deleted (no strip after), then lowercased; the gold is stripped and lowercased."""
    pred = pred.strip()
    for p in PUNCT:
        pred = pred.replace(p, "")
    return pred.lower() == gold.strip().lower()


def lenient_match(pred, gold):
    """sadi's --em-rule lenient: both sides have the strings deleted, then stripped and lowercased."""
    def norm(text):
        for p in PUNCT:
            text = text.replace(p, "")
        return text.strip().lower()
    return norm(pred) == norm(gold)


def test_python_ports_agree_with_the_crafted_table_and_the_rules_differ():
    cases = json.load(open(os.path.join(ROOT, "tests", "data", "em_cases.json")))
    for c in cases:
        assert reference_match(c["pred"], c["gold"]) == c["reference"], c
        assert lenient_match(c["pred"], c["gold"]) == c["lenient"], c
    assert sum(c["reference"] != c["lenient"] for c in cases) >= 4  # cases that tell the rules apart


def triviaqa_normalize(text):
    """TriviaQA's official normalisation, ported here: '_' to space, lowercase, punctuation and
    the quotes U+2018 U+2019 U+00B4 to spaces, articles dropped, whitespace collapsed."""
    import re
    import string
    text = text.replace("_", " ").lower()
    exclude = set(string.punctuation + "\u2018\u2019\u00b4`")
    text = "".join(" " if ch in exclude else ch for ch in text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split()).strip()


def test_triviaqa_port_agrees_with_the_crafted_table():
    for c in json.load(open(os.path.join(ROOT, "tests", "data", "triviaqa_cases.json"), encoding="utf-8")):
        assert triviaqa_normalize(c["pred"]) == c["normalized"], c
        assert any(triviaqa_normalize(g) == triviaqa_normalize(c["pred"]) for g in c["golds"]) == c["match"], c


def sadi(*args, check=True):
    r = subprocess.run([BIN, *args], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def llama_mask(tmp_path_factory):
    if not BIN or not DATA:
        pytest.skip("needs SADI_BIN and SADI_TESTDATA (run through ctest)")
    """The tiny llama's mask from the bundled pairs (identify is deterministic: made once here)."""
    mask = str(tmp_path_factory.mktemp("mask") / "mask.h5")
    sadi("identify", "--model", os.path.join(DATA, "llama"), "--pairs", PAIRS, "--out", mask)
    return mask


@needs_bin
def test_exact_match_equals_python_teacher_forced_scoring(tmp_path):
    """On the trained sentiment model, where some items are right and some wrong, and with gold
    answers that end in a full stop (the rules differ there), every item's exact-match flag
    under both rules equals a plain Python teacher-forced scoring, unsteered and steered."""
    import h5py
    import sentencepiece as spm
    model = os.path.join(DATA, "sentiment")
    tiny = os.path.join(ROOT, "tests", "data", "tiny")
    items = [json.loads(line) for line in open(os.path.join(tiny, "test.jsonl"))][:40]
    for i, it in enumerate(items):
        it.pop("choices")
        if i % 4 == 0:
            it["answer"] += "."
    task = tmp_path / "task.jsonl"
    task.write_text("".join(json.dumps(x) + "\n" for x in items))
    mask = str(tmp_path / "mask.h5")
    sadi("identify", "--model", model, "--pairs", os.path.join(tiny, "pairs.jsonl"), "--out", mask, "--sites", "head")
    m = torch.jit.load(os.path.join(model, "model.ts"))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model, "tokenizer.model"))
    dims = json.load(open(os.path.join(model, "manifest.json")))["dims"]
    n_layers, n_heads, head_dim = dims["n_layers"], dims["n_heads"], dims["head_dim"]
    with h5py.File(mask, "r") as f:
        rank = f["head"]["ranking"][:1]
    hm = torch.zeros(n_layers, n_heads * head_dim)
    for layer, head in rank:
        hm[layer, head * head_dim:(head + 1) * head_dim] = 1.0

    def predict(it, delta):
        ids = [1] + sp.encode(it["prompt"] + " " + it["answer"])
        n_p = len([1] + sp.encode(it["prompt"]))
        t = len(ids)
        at = torch.zeros(1, t, dtype=torch.bool)
        at[0, n_p - 1] = True
        steer = {"head.at": at}
        for layer in range(n_layers):
            if hm[layer].any():
                steer[f"head.{layer}.scale"] = (delta * hm[layer])[None]
        with torch.no_grad():
            logits, _ = m(torch.tensor([ids]), torch.arange(t)[None], torch.ones(1, t, dtype=torch.bool), 0, [], [],
                          torch.arange(n_p - 1, t - 1)[None], steer if delta else {}, {})
        return sp.decode(logits[0].argmax(-1).tolist())

    flags = {}
    for rule, match in (("reference", reference_match), ("lenient", lenient_match)):
        out = str(tmp_path / f"{rule}.json")
        sadi("eval", "--model", model, "--task", str(task), "--mask", mask, "--top-k", "1", "--delta", "19",
             "--metric", "exact-match", "--em-rule", rule, "--out", out, "--batch-size", "7")
        res = json.load(open(out))
        assert res["em_rule"] == rule
        for point in res["points"]:
            delta = point["delta"] if point["method"] == "sadi" else 0.0
            got = point["test"]["correct"]
            want = [int(match(predict(it, delta), it["answer"])) for it in items]
            assert got == want, (rule, point["method"])
            assert 0 < sum(got) < len(got), (rule, point["method"])  # some right, some wrong: the test can fail
            flags[(rule, point["method"])] = got
    assert flags[("reference", "none")] != flags[("lenient", "none")]  # the gold "positive." items


@needs_bin
def test_reference_rule_scores_the_answer_window_counted_alone_as_the_reference_code(tmp_path):
    """The reference code scores argmax(logits)[-len(tokenizer(answer)):-1] (its tokenizer adds a
    BOS): the predictions of as many last tokens as the answer has alone. With a byte-level BPE
    tokenizer that count differs from the answer's tokens after the prompt for some answers. Each
    item's answer here is the model's own greedy continuation, so the in-context window always
    matches and the alone window matches only where the two counts agree: --em-rule reference
    must equal the Python port item by item, --em-rule lenient (in-context window) match all."""
    from tokenizers import Tokenizer
    model = os.path.join(DATA, "llama-json")
    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    bos = json.load(open(os.path.join(model, "manifest.json")))["special_tokens"]["bos"][0]
    m = torch.jit.load(os.path.join(model, "model.ts"))
    enc = lambda text: tok.encode(text, add_special_tokens=False).ids  # noqa: E731

    def logits_of(ids):
        t = len(ids)
        with torch.no_grad():
            out, _ = m(torch.tensor([ids]), torch.arange(t)[None], torch.ones(1, t, dtype=torch.bool), 0, [], [],
                       torch.arange(t)[None], {}, {})
        return out[0]  # [T, V]

    items, windows = [], []
    words = ["sky", "snow", "grass", "river", "Paris", "tea", "two", "blue", "night", "sun", "rain", "wall", "fire",
             "salt", "apple", "winter", "lamp", "road", "bird", "cloud", "milk", "sand", "wind", "gold"]
    for n in range(len(words) ** 2):
        if len(items) == 16:
            break
        prompt = f"{words[n % len(words)]} {words[n // len(words)]} is"
        head = [bos] + enc(prompt)
        ids = list(head)
        for _ in range(3):  # the greedy continuation, three tokens
            ids.append(int(logits_of(ids)[-1].argmax()))
        text = tok.decode(ids[len(head):])
        answer = text[1:]
        full = [bos] + enc(prompt + " " + answer)
        if not text.startswith(" ") or not answer or answer.strip() != answer or full != ids:
            continue  # the continuation is not " " + a word that re-tokenizes to the same ids
        alone = len(enc(answer))
        pred = tok.decode(logits_of(full).argmax(-1)[len(full) - 1 - alone:len(full) - 1].tolist())
        items.append({"id": str(n), "prompt": prompt, "answer": answer, "_want": reference_match(pred, answer)})
        windows.append((alone, len(full) - len(head)))
    assert len(items) >= 8 and any(a != c for a, c in windows) and any(a == c for a, c in windows)
    task = tmp_path / "task.jsonl"
    task.write_text("".join(json.dumps({k: v for k, v in x.items() if k != "_want"}) + "\n" for x in items))
    for rule in ("reference", "lenient"):
        out = str(tmp_path / f"{rule}.json")
        r = sadi("eval", "--model", model, "--task", str(task), "--em-rule", rule, "--batch-size", "5", "--out", out)
        got = json.load(open(out))["points"][0]["test"]["correct"]
        if rule == "reference":
            assert got == [int(x["_want"]) for x in items]
            assert 0 < sum(got) < len(got)  # the windows disagree on some items: the test can fail
            differ = sum(a != c for a, c in windows)
            assert f"for {differ} of {len(items)} items the answer has another number of tokens" in r.stderr
        else:
            assert got == [1] * len(items)  # the greedy continuation itself, in context


@needs_bin
def test_results_schema_and_selection_ignores_test_labels(tmp_path, llama_mask):
    import jsonschema
    model = os.path.join(DATA, "llama")
    mask = llama_mask
    items = [json.loads(line) for line in open(TASK)]
    dev, test = tmp_path / "dev.jsonl", tmp_path / "test.jsonl"
    dev.write_text("".join(json.dumps(x) + "\n" for x in items[:24]))
    test.write_text("".join(json.dumps(x) + "\n" for x in items[24:]))
    flipped = tmp_path / "flipped.jsonl"  # same test prompts, every label changed
    flipped.write_text("".join(json.dumps({**x, "answer": [c for c in x["choices"] if c != x["answer"]][0]}) + "\n"
                               for x in items[24:]))
    results = []
    for t in (test, flipped):
        out = str(tmp_path / f"{t.stem}.json")
        sadi("eval", "--model", model, "--task", str(t), "--dev", str(dev), "--mask", mask, "--top-k", "1,3",
             "--delta", "5,40", "--metric", "choice", "--baselines", "none,fixed,fixed-dir,fixed-raw,random,caa,iti",
             "--random-seeds", "2", "--caa-layers", "1,2", "--caa-multipliers", "5,40", "--iti-alpha", "5,40", "--out", out)
        results.append(json.load(open(out)))
    schema = json.load(open(os.path.join(ROOT, "docs", "results.schema.json")))
    dims = json.load(open(os.path.join(model, "manifest.json")))["dims"]
    heads = dims["n_layers"] * dims["n_heads"]
    iti_k = [k for k in (1, 2, 4, 8, 16, 32) if k < heads] + [min(heads, 48)]  # ITI's own default K grid
    for r in results:
        jsonschema.validate(r, schema)
        assert r["grid"]["iti_top_k"] == iti_k and r["grid"]["top_k"] == [1, 3]
        # none; sadi, fixed, fixed-dir, fixed-raw: 2 K x 2 delta; random: 2 seeds x 4; caa: 2 layers x 2; iti: K x 2
        assert len(r["points"]) == 1 + 4 * 4 + 2 * 4 + 4 + 2 * len(iti_k) and "oracle" in r
        assert sorted({p["top_k"] for p in r["points"] if p["method"] == "iti"}) == iti_k
        assert r["calibration"] == {"source": "dev", "n": 24}
    for m in ("sadi", "fixed", "fixed-dir", "fixed-raw", "caa", "iti"):
        a, b = results[0]["selected"][m], results[1]["selected"][m]
        assert (a["top_k"], a["delta"], a["dev_accuracy"]) == (b["top_k"], b["delta"], b["dev_accuracy"])
    a, b = results[0]["selected"]["random"], results[1]["selected"]["random"]
    assert [(s["seed"], s["top_k"], s["delta"]) for s in a["per_seed"]] == \
        [(s["seed"], s["top_k"], s["delta"]) for s in b["per_seed"]]
    # the flipped labels do change the test scores
    assert results[0]["points"][0]["test"]["correct"] != results[1]["points"][0]["test"]["correct"]


@needs_bin
def test_plot_sweep_writes_a_png(tmp_path, llama_mask):
    model = os.path.join(DATA, "llama")
    mask = llama_mask
    out = str(tmp_path / "res.json")
    sadi("eval", "--model", model, "--task", TASK, "--dev-fraction", "0.5", "--mask", mask, "--top-k", "1,2",
         "--delta", "4,9", "--metric", "choice", "--out", out)
    png = str(tmp_path / "sweep.png")
    r = subprocess.run([os.sys.executable, os.path.join(ROOT, "scripts", "plot_sweep.py"), out, "--out", png],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


# The reference code's grids as its lists give them (../shared/reference/sadi-method.md, "Grids"):
# written out here, not read from the config under test.
REFERENCE_GRIDS = {
    "head": ([1, 2, 4, 6, 8, 10], list(range(5, 81, 5))),
    "neuron": ([3, 5, 10, 30, 50, 100, 200, 300, 400, 500], [10, 20, 30, 50, 70, 90]),
    "hidden": ([1, 2] + list(range(4, 21, 2)), list(range(5, 81, 5))),
}


def test_reference_grids_config_is_the_reference_codes():
    grids = json.load(open(os.path.join(ROOT, "configs", "reference_grids.json")))
    assert set(grids) - {"_doc"} == set(REFERENCE_GRIDS)
    for site, (top_k, strength) in REFERENCE_GRIDS.items():
        g = grids[site]
        assert g["top_k"] == top_k, site
        assert g["strength"] == strength, site
        assert g["delta"] == [s - 1 for s in strength], site  # A' = A + delta * A * M = s * A on the mask


def _without_timings(results):
    for p in results["points"]:
        for split in ("test", "dev"):
            p.get(split, {}).pop("seconds", None)
    return {k: results.get(k) for k in ("points", "selected", "oracle", "metric", "grid", "seed")}


@needs_bin
@pytest.mark.parametrize("metric", ["choice", "generate-em"])
def test_shards_merge_into_the_unsharded_result(tmp_path, metric, llama_mask):
    import jsonschema
    model = os.path.join(DATA, "llama")
    mask = llama_mask
    common = ["eval", "--model", model, "--task", TASK, "--dev-fraction", "0.25", "--mask", mask, "--top-k", "1,3",
              "--delta", "40", "--metric", metric, "--baselines", "none,random", "--random-seeds", "2",
              "--max-new-tokens", "4"]
    full = str(tmp_path / "full.json")
    sadi(*common, "--out", full)
    shards = []
    for i in (1, 2, 3):
        shards.append(str(tmp_path / f"shard{i}.json"))
        sadi(*common, "--shard", f"{i}/3", "--out", shards[-1])
        assert json.load(open(shards[-1]))["selected"] == {}
    merged = str(tmp_path / "merged.json")
    sadi("merge", shards[2], shards[0], shards[1], "--out", merged)
    schema = json.load(open(os.path.join(ROOT, "docs", "results.schema.json")))
    a, b = json.load(open(full)), json.load(open(merged))
    jsonschema.validate(b, schema)
    assert _without_timings(a) == _without_timings(b)
    assert b["task"]["n_test"] == a["task"]["n_test"] and b["dev"]["n"] == a["dev"]["n"]
    # a missing shard, a shard given twice and a shard of another run are refused, naming the file
    bad = sadi("merge", shards[0], shards[1], "--out", str(tmp_path / "bad.json"), check=False)
    assert bad.returncode == 3 and "shard.count" in bad.stderr
    bad = sadi("merge", shards[0], shards[0], shards[1], check=False)
    assert bad.returncode == 3 and "given twice" in bad.stderr
    other = str(tmp_path / "other.json")
    sadi(*[x if x != "40" else "41" for x in common], "--shard", "2/3", "--out", other)
    bad = sadi("merge", shards[0], other, shards[2], check=False)
    assert bad.returncode == 3 and "other.json" in bad.stderr and "grid" in bad.stderr
    assert not os.path.exists(tmp_path / "bad.json")


@needs_bin
def test_significance_against_scipy_and_a_numpy_bootstrap(tmp_path):
    """Every baseline's comparison with SADI on the trained sentiment model: the discordant counts
    and the difference from the points' own per-item flags, the exact McNemar p-value against
    scipy's binomial test, the paired and the selection-aware intervals against an independent
    numpy bootstrap (another random stream: bounds agree to resampling noise)."""
    import jsonschema
    import numpy as np
    from scipy.stats import binomtest
    model = os.path.join(DATA, "sentiment")
    tiny = os.path.join(ROOT, "tests", "data", "tiny")
    mask = str(tmp_path / "mask.h5")
    sadi("identify", "--model", model, "--pairs", os.path.join(tiny, "pairs.jsonl"), "--out", mask,
         "--sites", "head,residual")
    out = str(tmp_path / "r.json")
    r = sadi("eval", "--model", model, "--mask", mask, "--task", os.path.join(tiny, "test.jsonl"), "--dev-fraction",
             "0.5", "--top-k", "1,2,4", "--delta", "4,9", "--baselines", "none,fixed,random,caa,iti", "--random-seeds", "4",
             "--caa-layers", "1,2", "--iti-top-k", "4,16", "--iti-alpha", "5,15", "--out", out)
    res = json.load(open(out))
    jsonschema.validate(res, json.load(open(os.path.join(ROOT, "docs", "results.schema.json"))))
    pts, sel = res["points"], res["selected"]

    def chosen(method):  # the dev-selected points, as the report selects them (first best in grid order)
        if method == "random":
            seeds = sorted({p["seed"] for p in pts if p["method"] == "random"})
            return [chosen_in([p for p in pts if p["method"] == "random" and p["seed"] == s]) for s in seeds]
        return [chosen_in([p for p in pts if p["method"] == method])]

    def chosen_in(group):
        return max(group, key=lambda p: (p["dev"]["accuracy"], -group.index(p)))

    def flags(method, split):  # [points, items] 0/1
        return np.array([p[split]["correct"] for p in chosen(method)], dtype=float)

    s_test = flags("sadi", "test")[0]
    rng = np.random.default_rng(123)
    n_dev, n_test = len(pts[0]["dev"]["correct"]), len(s_test)
    draws = [(rng.integers(0, n_dev, n_dev), rng.integers(0, n_test, n_test)) for _ in range(2000)]
    grid = {m: [[p for p in pts if p["method"] == m and (m != "random" or p["seed"] == s)]
                for s in sorted({p.get("seed", 0) for p in pts if p["method"] == m})] for m in sel}

    def selection_aware(m):  # per resample: select on resampled dev, score on resampled test
        out = []
        for dev_i, test_i in draws:
            accs = []
            for group in grid[m]:
                dev = np.array([p["dev"]["correct"] for p in group])[:, dev_i].sum(1)
                best = group[int(np.argmax(dev))]  # argmax: the first best, as sadi
                accs.append(np.array(best["test"]["correct"])[test_i].mean())
            out.append(np.mean(accs))
        return np.array(out)

    sadi_sel = selection_aware("sadi")
    assert sel["sadi"]["test_ci95_selection_aware"] == pytest.approx(np.percentile(sadi_sel, [2.5, 97.5]), abs=0.03)
    compared = 0
    for m in ("none", "fixed", "caa", "iti", "random"):
        v = sel[m]["vs_sadi"]
        b = flags(m, "test").mean(0)
        d = s_test - b
        assert v["diff"] == pytest.approx(d.mean()) and v["n"] == n_test
        if m == "random":
            assert v["test"] == "sign-flip-permutation" and "discordant" not in v
        else:
            only_s, only_b = int((d > 0).sum()), int((d < 0).sum())
            assert v["discordant"] == {"sadi_only": only_s, "baseline_only": only_b}
            want = 1.0 if only_s + only_b == 0 else binomtest(only_s, only_s + only_b, 0.5).pvalue
            assert v["p"] == pytest.approx(want, rel=1e-9, abs=1e-15), m
            compared += only_s + only_b > 0
        boot = np.array([d[t].mean() for _, t in draws])
        assert v["diff_ci95"] == pytest.approx(np.percentile(boot, [2.5, 97.5]), abs=0.03), m
        sel_diff = sadi_sel - selection_aware(m)
        assert v["diff_ci95_selection_aware"] == pytest.approx(np.percentile(sel_diff, [2.5, 97.5]), abs=0.03), m
    assert compared >= 2  # some baselines differ from SADI on some items: the p-values are not all 1
    assert "SADI vs each baseline" in r.stdout and "McNemar exact" in r.stdout
