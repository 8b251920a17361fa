"""Interruption (issue 9): a real SIGINT / SIGTERM sent to sadi midway. identify leaves no
output; eval leaves a flagged partial result that --resume finishes into exactly the
uninterrupted result (apart from the command line). Needs SADI_BIN and SADI_TESTDATA (CTest)."""
import glob
import json
import os
import signal
import subprocess
import time

import pytest

BIN = os.environ.get("SADI_BIN")
DATA = os.environ.get("SADI_TESTDATA")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TINY = os.path.join(ROOT, "tests", "data", "tiny")
pytestmark = pytest.mark.skipif(not BIN or not DATA, reason="needs SADI_BIN and SADI_TESTDATA (run through ctest)")


def model():
    return os.path.join(DATA, "sentiment")


@pytest.fixture(scope="module")
def mask(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("mask") / "mask.h5")
    subprocess.run([BIN, "identify", "--model", model(), "--pairs", os.path.join(TINY, "pairs.jsonl"),
                    "--out", out, "--log-level", "warn"], check=True)
    return out


def eval_args(mask, out, metric="choice"):
    args = [BIN, "eval", "--model", model(), "--task", os.path.join(TINY, "test.jsonl"),
            "--dev", os.path.join(TINY, "dev.jsonl"), "--mask", mask, "--site", "head", "--metric", metric,
            "--batch-size", "4", "--out", out]
    if metric == "generate-em":  # one row per batch, 7 configurations: about 2 s of scoring, interrupted midway
        args[args.index("--batch-size") + 1] = "1"
        return args + ["--top-k", "1,4", "--delta", "5,9,19", "--max-new-tokens", "3"]
    return args + ["--top-k", "1,4", "--delta", "5,19", "--baselines", "none,random", "--random-seeds", "2"]


def interrupt(args, sig, after):
    """Starts `args`, waits until its log line `after` appears on stderr, lets it run a little,
    sends `sig` and returns (returncode, stderr)."""
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in p.stderr:
        seen.append(line)
        if after in line:
            break
    time.sleep(0.5)
    p.send_signal(sig)
    rest = p.stderr.read()
    p.wait(timeout=120)
    return p.returncode, "".join(seen) + rest


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def without_command_line(results):
    results.pop("command_line")
    return results


@pytest.mark.parametrize("metric,sig", [("choice", signal.SIGINT), ("generate-em", signal.SIGTERM)])
def test_interrupted_eval_leaves_a_partial_result_that_resumes_exactly(tmp_path, mask, metric, sig):
    full, part = str(tmp_path / "full.json"), str(tmp_path / "part.json")
    subprocess.run(eval_args(mask, full, metric) + ["--log-level", "warn"], check=True, stdout=subprocess.DEVNULL)
    rc, err = interrupt(eval_args(mask, part, metric), sig, "configurations x")
    assert rc == 128 + sig, err
    name = "SIGINT" if sig == signal.SIGINT else "SIGTERM"
    assert f"eval interrupted by {name}" in err and "--resume" in err, err
    p = load(part)
    assert p["partial"] is True and "points" not in p
    test = p["resume"]["test"]
    assert 0 < test["rows_done"] < test["rows_total"], test["rows_done"]
    assert len(test["texts" if metric == "generate-em" else "values"]) == test["rows_done"]
    assert glob.glob(str(tmp_path / ".*tmp*")) == []
    r = subprocess.run(eval_args(mask, part, metric) + ["--resume"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"rows already done" in r.stderr
    assert without_command_line(load(part)) == without_command_line(load(full))
    # resuming a complete result does nothing
    before = open(part, "rb").read()
    r = subprocess.run(eval_args(mask, part, metric) + ["--resume"], capture_output=True, text=True)
    assert r.returncode == 0 and "already a complete result" in r.stderr
    assert open(part, "rb").read() == before


def test_resume_refuses_another_configuration_and_merge_refuses_partials(tmp_path, mask):
    part = str(tmp_path / "part.json")
    rc, err = interrupt(eval_args(mask, part), signal.SIGINT, "configurations x")
    assert rc == 130, err
    r = subprocess.run(eval_args(mask, part) + ["--resume", "--seed", "7"], capture_output=True, text=True)
    assert r.returncode == 3, r.stderr
    assert "key 'resume.config.seed'" in r.stderr and "made with 0" in r.stderr and "has 7" in r.stderr, r.stderr
    args = eval_args(mask, part)
    args[args.index("--batch-size") + 1] = "8"
    r = subprocess.run(args + ["--resume"], capture_output=True, text=True)
    assert r.returncode == 3 and "resume.config.batch_size" in r.stderr, r.stderr
    r = subprocess.run([BIN, "merge", part], capture_output=True, text=True)
    assert r.returncode == 3 and "partial result of an interrupted run" in r.stderr, r.stderr
    assert load(part)["partial"] is True  # refused resumes left it as it was


def test_interrupted_eval_without_out_saves_nothing(tmp_path, mask):
    args = [a for a in eval_args(mask, "x") if a not in ("--out", "x")]
    rc, err = interrupt(args, signal.SIGINT, "configurations x")
    assert rc == 130 and "nothing saved (no --out)" in err, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_identify_writes_nothing_and_keeps_an_older_file(tmp_path, tmp_path_factory, sig):
    pairs = tmp_path_factory.mktemp("pairs") / "pairs.jsonl"
    with open(os.path.join(TINY, "pairs.jsonl"), encoding="utf-8") as f:
        pairs.write_text(f.read() * 40, encoding="utf-8")  # 6000 pairs: long enough to interrupt
    out = tmp_path / "mask.h5"
    out.write_bytes(b"an older file")
    args = [BIN, "identify", "--model", model(), "--pairs", str(pairs), "--out", str(out), "--batch-size", "1"]
    rc, err = interrupt(args, sig, "identify: 6000 pairs")
    assert rc == 128 + sig, err
    assert "no mask written" in err, err
    assert out.read_bytes() == b"an older file"
    assert sorted(os.listdir(tmp_path)) == ["mask.h5"]


def start_generate(tmp_path, batch_size):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": str(i), "prompt": "The movie was"}) + "\n" for i in range(400)))
    out = tmp_path / "gen.jsonl"
    p = subprocess.Popen([BIN, "generate", "--model", model(), "--input", str(prompts), "--max-new-tokens", "40",
                          "--batch-size", str(batch_size), "--out", str(out), "--log-level", "debug"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in p.stderr:  # the first batch is done: the temporary output file exists
        if "generate: " in line and " prompts" in line:
            break
    assert glob.glob(str(tmp_path / ".gen.jsonl.tmp-*")), "the temporary output should exist while generating"
    return p


def test_interrupted_generate_stops_after_a_token_and_leaves_no_file(tmp_path):
    p = start_generate(tmp_path, batch_size=1)
    p.send_signal(signal.SIGINT)
    err = p.stderr.read()
    p.wait(timeout=60)
    assert p.returncode == 130, err
    assert "generate interrupted by SIGINT after" in err and "no output file written" in err, err
    assert sorted(os.listdir(tmp_path)) == ["prompts.jsonl"]


def test_a_second_signal_ends_generate_at_once_and_still_removes_the_temporary_file(tmp_path):
    p = start_generate(tmp_path, batch_size=64)
    p.send_signal(signal.SIGINT)
    time.sleep(0.002)
    p.send_signal(signal.SIGINT)  # before the next token: the handler removes the file, then the default action
    p.stderr.read()
    p.wait(timeout=60)
    assert p.returncode in (130, -signal.SIGINT)
    assert sorted(os.listdir(tmp_path)) == ["prompts.jsonl"]


def test_sigterm_twice_is_one_clean_stop(tmp_path, mask):
    """Slurm signals every process of a job (and a wrapper may pass the signal on): a second
    SIGTERM must not throw away the partial result the first one asked for."""
    part = str(tmp_path / "part.json")
    p = subprocess.Popen(eval_args(mask, part, "generate-em"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    seen = []
    for line in p.stderr:
        seen.append(line)
        if "configurations x" in line:
            break
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    time.sleep(0.002)
    p.send_signal(signal.SIGTERM)
    err = "".join(seen) + p.stderr.read()
    p.wait(timeout=120)
    assert p.returncode == 143, err
    assert "eval interrupted by SIGTERM" in err, err
    assert load(part)["partial"] is True
