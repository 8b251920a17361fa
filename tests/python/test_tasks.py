"""scripts/convert_task.py and configs/tasks: each paper task's sample raw file converts to the
reference code's verbatim prompt (written out literally here, independently of the configs),
the gold label, a wrong label by the task's rule, and a task file `sadi eval` accepts; bad raw
input is refused with the file, line and key."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import convert_task  # noqa: E402

SAMPLES = os.path.join(ROOT, "tests", "data", "tasks")
RAW = {"copa": "copa.jsonl", "storycloze": "storycloze.csv", "sst2": "sst2.tsv", "sst5": "sst5.jsonl",
       "boolq": "boolq.jsonl", "mmlu": "mmlu.csv", "xnli": "xnli.tsv", "winogrande": "winogrande.jsonl"}

# The first record of each sample, rendered by hand from the templates of the reference code.
FIRST = {
    "copa": ("Question:\nThe man lost his keys. Based on the previous passage, choose the most reasonable effect.\n"
             "A:He searched his pockets.\nB:He painted the fence.\n\nAnswer:\n", "A"),
    "storycloze": ("Tom wanted a dog. He saved money for months. He went to the shelter. He saw a small brown puppy.\n"
                   "Question: What is a possible continuation for the story given the following options?\n"
                   "A: Tom adopted the puppy. B: Tom bought a car instead.\nAnswer:", "A"),
    "sst2": ("Consider the sentiment expression in this sentence and respond briefly with 'positive' or 'negative'.\n\n"
             "a warm , funny and moving film\n\nAnswer:", "Positive"),
    "sst5": ("Consider the sentiment expression in this sentence and respond briefly with 'very positive', 'positive', "
             "'neutral', 'negative', and 'very negative'.\n\na masterpiece , pure and simple\n\nAnswer:", "very positive"),
    "boolq": ("Is the answer to the question encapsulated in the passage? Please confirm with 'yes' or 'no'.\n\n"
              "Passage: The Sun is the star at the centre of the Solar System.\n\nQuestion: is the sun a star\n\nAnswer:",
              "Yes"),
    "mmlu": ("Question: What is 7 times 8?\nWhich of the following answers is correct?\nA. 54\nB. 56\nC. 58\nD. 64\n"
             "State the letter corresponding to the correct answer.\nAnswer:", "B"),
    "xnli": ("Answer whether the hypothesis is more likely to be true, false, or unclusive based on the given premise.\n"
             "Premise: A man is playing a guitar on stage.\nHypothesis: A man is making music.\nAnswer:", "True"),
    "winogrande": ("Please fill in the blanks. Write A or B as the answer.\n\nSentence: The trophy did not fit in the "
                   "suitcase because the _ was too big.\nA. trophy\nB. suitcase\nAnswer:", "A"),
}
COUNTS = {"copa": 8, "storycloze": 6, "sst2": 8, "sst5": 8, "boolq": 6, "mmlu": 6, "xnli": 6, "winogrande": 6}


def run(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "convert_task.py"), *args],
                          capture_output=True, text=True)


def config(name):
    return os.path.join(ROOT, "configs", "tasks", f"{name}.json")


@pytest.mark.parametrize("name", sorted(RAW))
def test_sample_converts_to_the_verbatim_template(tmp_path, name):
    pairs, task = tmp_path / "p.jsonl", tmp_path / "t.jsonl"
    r = run("--config", config(name), "--input", os.path.join(SAMPLES, RAW[name]), "--pairs", str(pairs),
            "--task", str(task), "--seed", "3")
    assert r.returncode == 0, r.stderr
    P = [json.loads(x) for x in pairs.read_text(encoding="utf-8").splitlines()]
    T = [json.loads(x) for x in task.read_text(encoding="utf-8").splitlines()]
    assert len(P) == len(T) == COUNTS[name]
    assert (T[0]["prompt"], T[0]["answer"]) == FIRST[name]
    labels = json.load(open(config(name)))["labels"]
    for p, t in zip(P, T):
        assert p["prompt"] == t["prompt"] and p["positive"] == t["answer"] and p["id"] == t["id"]
        assert p["negative"] != p["positive"] and p["negative"] in labels and t["choices"] == labels
    assert len({t["id"] for t in T}) == len(T)
    golds = {t["answer"] for t in T}
    assert len(golds) >= 2, "the sample should exercise more than one label"
    # same seed, same file; the wrong answers are the only random part
    again = tmp_path / "p2.jsonl"
    run("--config", config(name), "--input", os.path.join(SAMPLES, RAW[name]), "--pairs", str(again), "--seed", "3")
    assert again.read_text(encoding="utf-8") == pairs.read_text(encoding="utf-8")


def test_wrong_answer_rules():
    sst5 = convert_task.load_config(config("sst5"))
    pairs, _ = convert_task.convert(sst5, os.path.join(SAMPLES, "sst5.jsonl"), 0, 0)
    opposite = {"very positive": "very negative", "positive": "negative", "negative": "positive",
                "very negative": "very positive"}
    for p in pairs:
        if p["positive"] in opposite:
            assert p["negative"] == opposite[p["positive"]]
        else:
            assert p["positive"] == "neutral" and p["negative"] != "neutral"
    xnli = convert_task.load_config(config("xnli"))
    pairs, task = convert_task.convert(xnli, os.path.join(SAMPLES, "xnli.tsv"), 0, 0)
    assert all("Ein Hund" not in t["prompt"] for t in task)  # only the English rows
    assert {t["answer"] for t in task} == {"True", "False", "unclusive"}
    assert [t["id"] for t in task][:2] == ["xnli-1", "xnli-2"]
    mmlu = convert_task.load_config(config("mmlu"))
    seen = set()
    for seed in range(20):
        pairs, _ = convert_task.convert(mmlu, os.path.join(SAMPLES, "mmlu.csv"), seed, 0)
        seen.add(pairs[0]["negative"])
        assert pairs[0]["negative"] != "B"
    assert seen == {"A", "C", "D"}  # random other letter
    copa = convert_task.load_config(config("copa"))
    pairs, task = convert_task.convert(copa, os.path.join(SAMPLES, "copa.jsonl"), 0, 3)
    assert len(task) == 3  # --limit


def test_bad_raw_input_names_file_line_and_key(tmp_path):
    bad = tmp_path / "copa.jsonl"
    bad.write_text('{"premise": "p", "choice1": "a", "choice2": "b", "question": "cause", "label": 0}\n'
                   '{"premise": "p", "choice1": "a", "choice2": "b", "question": "cause", "label": -1}\n')
    out = tmp_path / "out.jsonl"
    r = run("--config", config("copa"), "--input", str(bad), "--task", str(out))
    assert r.returncode == 3 and "copa.jsonl:2: key 'label': expected one of ['0', '1'], found -1" in r.stderr
    assert not out.exists()
    bad.write_text('{"premise": "p", "choice1": "a", "question": "cause", "label": 0}\n')
    r = run("--config", config("copa"), "--input", str(bad), "--task", str(out))
    assert r.returncode == 3 and "copa.jsonl:1: key 'choice2': expected a non-empty text field" in r.stderr
    tsv = tmp_path / "sst2.tsv"
    tsv.write_text("sentence\tlabel\ngood\t1\nbad\n")
    r = run("--config", config("sst2"), "--input", str(tsv), "--task", str(out))
    assert r.returncode == 3 and "sst2.tsv:3: expected 2 columns (sentence, label), found 1" in r.stderr
    tsv.write_text("sentence\tlabel\ngood\t1\n")
    r = run("--config", config("xnli"), "--input", str(tsv), "--task", str(out))
    assert r.returncode == 3 and "expected a column 'language'" in r.stderr
    tsv.write_text("language\tgold_label\tsentence1\tsentence2\nde\tneutral\tx\ty\n")
    r = run("--config", config("xnli"), "--input", str(tsv), "--task", str(out))
    assert r.returncode == 3 and "no records matching {'language': 'en'}" in r.stderr
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({**json.load(open(config("copa"))), "labels": ["A", "A"]}))
    r = run("--config", str(cfg), "--input", str(bad), "--task", str(out))
    assert r.returncode == 3 and "key 'labels': expected at least two distinct" in r.stderr
    r = run("--config", config("copa"), "--input", str(tmp_path / "missing.jsonl"), "--task", str(out))
    assert r.returncode == 4 and "missing.jsonl" in r.stderr
    assert not out.exists()


@pytest.mark.skipif(not os.environ.get("SADI_BIN") or not os.environ.get("SADI_TESTDATA"),
                    reason="needs SADI_BIN and SADI_TESTDATA (run through ctest)")
def test_converted_files_run_through_identify_and_eval(tmp_path):
    pairs, task = tmp_path / "p.jsonl", tmp_path / "t.jsonl"
    assert run("--config", config("copa"), "--input", os.path.join(SAMPLES, "copa.jsonl"), "--pairs", str(pairs),
               "--task", str(task)).returncode == 0
    model = os.path.join(os.environ["SADI_TESTDATA"], "llama")
    sadi = os.environ["SADI_BIN"]
    mask = tmp_path / "m.h5"
    r = subprocess.run([sadi, "identify", "--model", model, "--pairs", str(pairs), "--out", str(mask)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "r.json"
    r = subprocess.run([sadi, "eval", "--model", model, "--task", str(task), "--mask", str(mask), "--top-k", "1",
                        "--delta", "4", "--metric", "choice", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.load(open(out))["task"]["n_test"] == 8
