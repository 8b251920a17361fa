"""eval_suite.py --slurm on a real Slurm (issue 19): a one-node cluster of Debian's slurm-wlm and
munge, started by this test in a temporary folder (scripts/slurm/local_cluster.sh) and stopped at
the end, also on failure. The sample suite with 3 identify shards per task and up to 3 eval
shards (as many as each task's splits allow) runs through --slurm; one eval array element is
cancelled with scancel while it runs (SIGTERM from Slurm: a partial result is kept), --status names
it and the jobs its failure cancelled, --resume submits only it and the jobs after it, the element
continues its partial result, and the summary equals the one-machine run's.
Needs root, slurm-wlm and munge (scripts/install_deps.sh); skipped with the reason otherwise."""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SADI_BIN")
DATA = os.environ.get("SADI_TESTDATA")
CLUSTER = os.path.join(ROOT, "scripts", "slurm", "local_cluster.sh")
SUITE = os.path.join(ROOT, "scripts", "eval_suite.py")
pytestmark = pytest.mark.skipif(not BIN or not DATA, reason="needs SADI_BIN and SADI_TESTDATA (run through ctest)")

# The element the test cancels: shard 2 of copa's head eval. On its first run this stand-in runs
# the real sadi, which stops itself (SIGSTOP) after its first batch of rows, so that the cancel lands
# mid-run whatever the machine's speed or load (reacting to a log line raced a fast eval to its
# end under load); Slurm's SIGCONT + SIGTERM then reach sadi.
WRAPPER = """#!{python}
import os, signal, subprocess, sys
real, mark = {real!r}, {mark!r}
args = sys.argv[1:]
victim = "--shard" in args and args[args.index("--shard") + 1] == "2/2" and "/copa/head.shards/" in " ".join(args)
if not victim or os.path.exists(mark):
    os.execv(real, [real] + args)
open(mark, "w").close()
# sadi stops itself after its first batch (SADI_PAUSE, lib/core context.hpp's pause_point): a
# known place, whatever the machine's load
p = subprocess.Popen([real] + args, env=dict(os.environ, SADI_PAUSE="eval-batch"))
# Slurm signals every process of the job: sadi gets its own SIGTERM; here only wake it up
signal.signal(signal.SIGTERM, lambda *_: os.kill(p.pid, signal.SIGCONT))
_, status = os.waitpid(p.pid, os.WUNTRACED)
if os.WIFSTOPPED(status):
    open(mark + ".stopped", "w").write(str(p.pid))
    rc = p.wait()
else:
    rc = os.waitstatus_to_exitcode(status)
sys.exit(rc if rc >= 0 else 128 - rc)
"""


@pytest.fixture(scope="module")
def cluster():
    d = tempfile.mkdtemp(prefix="sadi-slurm-")
    r = subprocess.run(["bash", CLUSTER, "start", d], capture_output=True, text=True)
    if r.returncode == 77:
        shutil.rmtree(d, ignore_errors=True)
        pytest.skip(r.stderr.strip())
    try:
        assert r.returncode == 0, r.stderr
        os.environ["SLURM_CONF"] = os.path.join(d, "slurm.conf")
        yield d
    finally:
        subprocess.run(["bash", CLUSTER, "stop", d], capture_output=True, text=True)
        os.environ.pop("SLURM_CONF", None)
        shutil.rmtree(d, ignore_errors=True)


def suite(*args):
    r = subprocess.run([sys.executable, SUITE, *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r


def status(out):
    return json.loads(suite("--out-dir", out, "--status", "--json").stdout)


def wait_idle(timeout=600):
    t0 = time.time()
    while subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True).stdout.strip():
        assert time.time() - t0 < timeout, "the jobs did not finish in time"
        time.sleep(1)


def element(st, step, e):
    s = next(s for s in st["steps"] if s["name"] == step)
    return next(x for x in s["elements"] if x["element"] == e)


def table(out):
    """summary.csv without its last column (the results file, under each run's own out dir)."""
    with open(os.path.join(out, "summary.csv"), newline="") as f:
        return [{k: v for k, v in row.items() if k != "results"} for row in csv.DictReader(f)]


def test_suite_on_slurm_with_one_element_cancelled_and_resumed(cluster, tmp_path):
    local, slurm = str(tmp_path / "local"), str(tmp_path / "slurm")
    config = os.path.join(ROOT, "configs", "suites", "samples.json")
    model = f"tiny={os.path.join(DATA, 'llama')}"
    suite("--config", config, "--model", model, "--out-dir", local, "--sadi", BIN)

    mark = str(tmp_path / "victim")
    wrapper = tmp_path / "sadi"
    wrapper.write_text(WRAPPER.format(python=sys.executable, real=BIN, mark=mark))
    wrapper.chmod(0o755)
    suite("--config", config, "--model", model, "--out-dir", slurm, "--sadi", str(wrapper), "--slurm",
          "--shards", "3", "--identify-shards", "3", "--time", "00:20:00")
    plan = json.load(open(os.path.join(slurm, "slurm", "plan.json")))
    counts = {s["name"]: s.get("count", 1) for s in plan["steps"]}
    assert all(counts[f"tiny/{t}/identify"] == 3 for t in ("copa", "sst2", "boolq"))
    assert counts["tiny/copa/head/eval"] == 2  # copa's test and dev splits have 2 items each

    t0 = time.time()
    while not os.path.exists(mark + ".stopped"):
        assert time.time() - t0 < 300, "the element to cancel never started"
        time.sleep(0.5)
    jobs = json.load(open(os.path.join(slurm, "slurm", "jobs.json")))["submissions"]
    victim = next(s for s in jobs if s["step"] == "tiny/copa/head/eval")["job_id"] + "_2"
    assert element(status(slurm), "tiny/copa/head/eval", 2)["state"] == "running"
    subprocess.run(["scancel", victim], check=True)
    r = subprocess.run([sys.executable, SUITE, "--out-dir", slurm, "--status", "--wait", "--poll", "1"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 1 and ": failed:" in r.stdout, (r.returncode, r.stdout, r.stderr)  # the failure
    wait_idle()

    st = status(slurm)
    assert st["state"] == "failed"
    e = element(st, "tiny/copa/head/eval", 2)
    assert e["state"] == "failed" and e["detail"].startswith("CANCELLED") and e["job"] == victim, e
    assert "partial" in e, e  # sadi kept what it had scored
    part = json.load(open(os.path.join(slurm, "runs", "tiny", "copa", "head.shards", "shard-2.json")))
    assert part["partial"] is True
    failed = {s["name"] for s in st["steps"] if any(x["state"] != "done" for x in s["elements"])}
    assert failed == {"tiny/copa/head/eval", "tiny/copa/head/merge", "summary"}, failed
    assert "DependencyNeverSatisfied" in element(st, "summary", 0)["detail"]
    text = suite("--out-dir", slurm, "--status").stdout
    assert victim in text and "partial result kept" in text and "--resume" in text, text

    # a second submission into the same out dir, or a resume with another config, is refused
    r = subprocess.run([sys.executable, SUITE, "--config", config, "--model", model, "--out-dir", slurm, "--slurm"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 3 and "already has a submitted suite" in r.stderr, r.stderr
    r = subprocess.run([sys.executable, SUITE, "--config", config, "--out-dir", slurm, "--slurm", "--resume"],
                       capture_output=True, text=True, cwd=ROOT)  # without the --model override
    assert r.returncode == 3 and "key 'models'" in r.stderr and "use a new --out-dir" in r.stderr, r.stderr
    r = subprocess.run([sys.executable, SUITE, "--out-dir", slurm, "--slurm", "--resume", "--shards", "2"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 3 and "--shards: expected 3, the count the suite was submitted with" in r.stderr, r.stderr
    suite("--out-dir", slurm, "--slurm", "--resume", "--time", "00:40:00")  # more time for what runs again
    again = json.load(open(os.path.join(slurm, "slurm", "jobs.json")))["submissions"][len(jobs):]
    assert [(s["step"], s["elements"]) for s in again] == [
        ("tiny/copa/head/eval", [2]), ("tiny/copa/head/merge", [0]), ("summary", [0])], again
    assert "--time=00:40:00" in again[0]["sbatch"] and "--array=2" in again[0]["sbatch"], again[0]["sbatch"]
    assert "--time=00:30:00" in again[1]["sbatch"]  # merges keep their own limit
    r = subprocess.run([sys.executable, SUITE, "--out-dir", slurm, "--status", "--wait", "--poll", "1"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0 and ": complete:" in r.stdout, (r.returncode, r.stdout, r.stderr)
    wait_idle()
    st = status(slurm)
    assert st["state"] == "complete", json.dumps(st)[:2000]
    log = element(st, "tiny/copa/head/eval", 2)
    logs = os.path.join(slurm, "slurm", "logs")
    first = open(os.path.join(logs, f"tiny.copa.head.eval-{victim}.log")).read()
    assert "eval interrupted by SIGTERM" in first, first  # Slurm's signal, handled by sadi
    resumed = open(os.path.join(logs, f"tiny.copa.head.eval-{again[0]['job_id']}_2.log")).read()
    assert "eval: resuming" in resumed and "rows already done" in resumed, resumed  # sadi eval --resume
    assert log["job"] == f"{again[0]['job_id']}_2"
    assert table(slurm) == table(local)
    body = lambda out: open(os.path.join(out, "summary.md")).read().split("\n", 3)[3]  # noqa: E731
    assert body(slurm) == body(local)

    # where Slurm cannot be reached, --status reports from the files alone
    os.remove(os.path.join(slurm, "summary.csv"))
    r = subprocess.run([sys.executable, SUITE, "--out-dir", slurm, "--status", "--json"], capture_output=True,
                       text=True, cwd=ROOT, env=dict(os.environ, SLURM_CONF=os.path.join(cluster, "missing.conf")))
    assert r.returncode == 0 and "the states below come from the files alone" in r.stderr, r.stderr
    st = json.loads(r.stdout)
    assert st["state"] == "unknown" and st["counts"]["unknown"] == 1 and element(st, "summary", 0)["state"] == "unknown"
