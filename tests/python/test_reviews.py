"""scripts/convert_reviews.py (VADER's human-rated snippets -> pairs, dev and test files) and chat
templates (scripts/chat_template.py, convert_task.py --chat-template): the threshold's edges,
duplicates, balance, disjoint and seeded splits, checksums, errors naming file and line; the
rendered chat prompt equals transformers' apply_chat_template on the same tokenizer_config.json."""
import hashlib
import json
import os
import subprocess
import sys

import pytest

from conftest import PY, ROOT, SCRIPTS

sys.path.insert(0, SCRIPTS)
from chat_template import ChatTemplate, TemplateError  # noqa: E402

VADER = os.path.join(ROOT, "third_party", "vader", "additional_resources", "hutto_ICWSM_2014")
CHATML = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
          "{{ '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n' }}{% endif %}"
          "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
LLAMA2 = ("{% if messages[0]['role'] == 'system' %}{% set sys = '<<SYS>>\\n' + messages[0]['content'] + "
          "'\\n<</SYS>>\\n\\n' %}{% set messages = messages[1:] %}{% else %}{% set sys = '' %}{% endif %}"
          "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
          "{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}"
          "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + (sys if loop.first else '') + "
          "message['content'] + ' [/INST]' }}{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}"
          "{% endfor %}")


def write_snippets(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        for i, (mean, text) in enumerate(rows, 1):
            f.write(f"{i}\t{mean}\t{text}\r\n")


def run(*args):
    return subprocess.run([PY, os.path.join(SCRIPTS, "convert_reviews.py"), *args], capture_output=True, text=True)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture
def vader(tmp_path):
    """A fake hutto_ICWSM_2014/ with a movie file: 30 clear positives, 30 clear negatives, edge cases."""
    d = tmp_path / "vader"
    d.mkdir()
    rows = [(2.5, f"great film number {i}") for i in range(30)] + [(-2.5, f"awful film number {i}") for i in range(30)]
    rows += [(0.8, "edge positive dropped"), (-0.8, "edge negative kept"), (0.81, "just positive kept"),
             (0.0, "neutral dropped"), (2.0, "duplicate agreeing"), (3.0, "duplicate agreeing"),
             (2.0, "duplicate disagreeing"), (-2.0, "duplicate disagreeing"), (1.0, "  spaced   out text  ")]
    write_snippets(d / "movieReviewSnippets_GroundTruth.txt", rows)
    return d


def test_threshold_duplicates_balance_and_disjoint_splits(vader, tmp_path):
    out = tmp_path / "out"
    r = run("--source", "movie", "--vader-dir", str(vader), "--out-dir", str(out), "--pairs", "20", "--dev", "10",
            "--test", "20", "--seed", "3")
    assert r.returncode == 0, r.stderr
    man = json.load(open(out / "manifest.json"))
    # 30 + "edge negative kept" negatives; 30 + "just positive kept" + agreeing duplicate + spaced text positives
    assert man["beyond_threshold"] == {"Positive": 33, "Negative": 31}
    sets = {name: read_jsonl(out / f"{name}.jsonl") for name in ("pairs", "dev", "test")}
    texts = {}
    for name, recs in sets.items():
        assert len(recs) == man["sizes"][name]
        key = "positive" if name == "pairs" else "answer"
        assert sum(r[key] == "Positive" for r in recs) == len(recs) // 2  # balanced
        texts[name] = {r["prompt"] for r in recs}
        assert hashlib.sha256(open(out / f"{name}.jsonl", "rb").read()).hexdigest() == man["files"][f"{name}.jsonl"]
    assert not texts["pairs"] & texts["dev"] and not texts["pairs"] & texts["test"] and not texts["dev"] & texts["test"]
    every = "\n".join(p for t in texts.values() for p in t)
    assert "edge positive dropped" not in every and "neutral dropped" not in every
    assert "duplicate disagreeing" not in every
    assert every.count("duplicate agreeing") <= 1
    pair = sets["pairs"][0]
    assert {pair["positive"], pair["negative"]} == {"Positive", "Negative"}
    assert pair["prompt"].startswith("Consider the sentiment expression in this sentence") and man["separator"] == " "
    # seeded: the same seed gives the same bytes, another seed other sets
    again, other = tmp_path / "again", tmp_path / "other"
    assert run("--source", "movie", "--vader-dir", str(vader), "--out-dir", str(again), "--pairs", "20", "--dev", "10",
               "--test", "20", "--seed", "3").returncode == 0
    assert run("--source", "movie", "--vader-dir", str(vader), "--out-dir", str(other), "--pairs", "20", "--dev", "10",
               "--test", "20", "--seed", "4").returncode == 0
    assert open(again / "test.jsonl").read() == open(out / "test.jsonl").read()
    assert open(other / "test.jsonl").read() != open(out / "test.jsonl").read()


@pytest.mark.parametrize("line,why", [("1\t2.0\n", "expected 3 tab-separated fields"),
                                      ("1\tgood\tsome text\n", "expected a number, found 'good'"),
                                      ("1\t4.5\tsome text\n", "expected -4..4, found 4.5"),
                                      ("1\t2.0\t   \n", "field 3 (text): empty")])
def test_bad_lines_named(tmp_path, line, why):
    d = tmp_path / "vader"
    d.mkdir()
    path = d / "movieReviewSnippets_GroundTruth.txt"
    path.write_text("7\t1.5\tfine line\n" + line, encoding="utf-8")
    r = run("--source", "movie", "--vader-dir", str(d), "--out-dir", str(tmp_path / "out"))
    assert r.returncode == 3 and f"{path}:2" in r.stderr and why in r.stderr, r.stderr
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_too_few_snippets_refused(vader, tmp_path):
    r = run("--source", "movie", "--vader-dir", str(vader), "--out-dir", str(tmp_path / "o"), "--pairs", "60")
    assert r.returncode == 3 and "33 positive and 31 negative" in r.stderr, r.stderr


@pytest.mark.skipif(not os.path.isdir(VADER), reason="vaderSentiment's data not fetched (scripts/fetch_assets.sh)")
def test_real_files_counts_as_documented(tmp_path):
    """docs/tasks.md's table: snippets beyond the threshold in the real files."""
    for source, counts in (("movie", {"Positive": 4771, "Negative": 4821}),
                           ("amazon", {"Positive": 1580, "Negative": 1078})):
        out = tmp_path / source
        assert run("--source", source, "--out-dir", str(out)).returncode == 0
        assert json.load(open(out / "manifest.json"))["beyond_threshold"] == counts


def hf_dir_with_template(tmp_path, template):
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "tokenizer_config.json").write_text(json.dumps({"chat_template": template, "bos_token": "<s>",
                                                          "eos_token": "</s>"}))
    return str(hf)


@pytest.mark.parametrize("template", [CHATML, LLAMA2], ids=["chatml", "llama2"])
@pytest.mark.parametrize("system", [None, "Be terse."])
def test_chat_template_equals_transformers(tmp_path, template, system):
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast
    hf = hf_dir_with_template(tmp_path, template)
    text = "Is this review positive?\n\nA fine film.\n\nAnswer:"
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.BPE()), bos_token="<s>", eos_token="</s>")
    tok.chat_template = template
    ref = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert ChatTemplate(hf).render(text, system) == ref


def test_chat_template_errors_name_the_key(tmp_path):
    hf = hf_dir_with_template(tmp_path, "{{ raise_exception('no') }}")
    with pytest.raises(TemplateError, match="'chat_template'.*refused"):
        ChatTemplate(hf).render("hi")
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "tokenizer_config.json").write_text("{}")
    with pytest.raises(TemplateError, match="key 'chat_template': expected a Jinja2 template string"):
        ChatTemplate(str(bare))
    (bare / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{% for %}"}))
    with pytest.raises(TemplateError, match="not a valid template"):
        ChatTemplate(str(bare))


def test_convert_task_applies_the_chat_template(tmp_path):
    hf = hf_dir_with_template(tmp_path, CHATML)
    sample = os.path.join(ROOT, "tests", "data", "tasks", "sst2.tsv")
    cfg = os.path.join(ROOT, "configs", "tasks", "sst2.json")
    raw, chat = tmp_path / "raw.jsonl", tmp_path / "chat.jsonl"
    for out, extra in ((raw, []), (chat, ["--chat-template", hf, "--system", "Be terse."])):
        r = subprocess.run([PY, os.path.join(SCRIPTS, "convert_task.py"), "--config", cfg, "--input", sample,
                            "--task", str(out), *extra], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    for a, b in zip(read_jsonl(raw), read_jsonl(chat)):
        assert b["prompt"] == ("<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\n" + a["prompt"]
                               + "<|im_end|>\n<|im_start|>assistant\n")
        assert b["answer"] == a["answer"]
    r = subprocess.run([PY, os.path.join(SCRIPTS, "convert_task.py"), "--config", cfg, "--input", sample,
                        "--task", str(tmp_path / "x.jsonl"), "--chat-template", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode in (3, 4) and "tokenizer_config.json" in r.stderr and not (tmp_path / "x.jsonl").exists()


def test_chat_template_cli_json_keeps_the_final_newline(tmp_path):
    hf = hf_dir_with_template(tmp_path, CHATML)
    r = subprocess.run([PY, os.path.join(SCRIPTS, "chat_template.py"), "--model", hf, "--text", "Hi", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"prompt": ChatTemplate(hf).render("Hi")}
    assert json.loads(r.stdout)["prompt"].endswith("<|im_start|>assistant\n")
    r = subprocess.run([PY, os.path.join(SCRIPTS, "chat_template.py"), "--model", str(tmp_path), "--text", "Hi"],
                       capture_output=True, text=True)
    assert r.returncode == 3 and "tokenizer_config.json" in r.stderr
