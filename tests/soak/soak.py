#!/usr/bin/env python3
"""Same input, same answer: a seeded random-input soak of the sadi CLI (issue 16, docs/testing.md).

Runs identify, eval and generate (and inspect on the masks made), and merge, info, tokenize and
inspect on random valid and damaged inputs, for a time budget and asserts, for every run:
  - the process ended by itself (no signal, no timeout);
  - exit 0 with a well-formed result (a mask inspect can read, a results JSON with its grid,
    generated JSON lines), or a documented exit code (1-4, docs/errors.md) with one
    "sadi: error: " line that names the input: a file given, a flag, or a record of a file;
  - no temporary file (".NAME.tmp-*") left anywhere, and no output where the run failed;
  - every input byte for byte unchanged (sha256 before and after), the model directory included.
Each case is reproducible from (seed, case number): a failure prints both and the command, and
keeps the case's files under --keep.

Usage: soak.py --sadi BIN --data TESTDATA [--seconds 90] [--seed 16] [--keep DIR]
Needs no torch: plain Python 3.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time

DOCUMENTED = {0, 1, 2, 3, 4}
WORDS = ["The", "sky", "is", "blue", "movie", "was", "great", "bad", "Snow", "white", "a", "good", "film",
         "café", "€", "日本", "🙂", "x" * 40]
ODD_WORDS = ["\t", "\n", "  ", "\u200b", "\\"]


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def snapshot(paths):
    out = {}
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                for f in files:
                    q = os.path.join(root, f)
                    out[q] = sha(q)
        elif os.path.isfile(p):
            out[p] = sha(p)
    return out


def temp_files(dirs):
    found = []
    for d in dirs:
        for root, _, files in os.walk(d):
            found += [os.path.join(root, f) for f in files if ".tmp-" in f]
    return found


class Gen:
    """Random inputs: mostly valid records, some broken in one of many ways."""

    def __init__(self, rng):
        self.r = rng

    def text(self, lo=1, hi=8):
        n = self.r.randint(lo, hi)
        return " ".join(self.r.choice(WORDS if self.r.random() < 0.97 else ODD_WORDS) for _ in range(n))

    def ident(self):
        if self.r.random() < 0.9:
            return self.r.choice([f"i{self.r.randint(0, 99)}", self.r.randint(-5, 10**6), 2**63, 2**64 - 1, None, "ü"])
        return self.r.choice([2**70, 1.5, "", [1]])

    def broken_value(self):
        return self.r.choice([None, 3, -1, 1e308, [], {}, "", True, "  ", [1, 2], "\x00", 2**64])

    def record(self, fields):
        rec = {}
        if self.r.random() < 0.3:
            v = self.ident()
            if v is not None:
                rec["id"] = v
        for k in fields:
            rec[k] = self.text()
        if self.r.random() < 0.04:  # one field broken or missing
            k = self.r.choice(fields)
            if self.r.random() < 0.5:
                del rec[k]
            else:
                rec[k] = self.broken_value()
        return rec

    def line(self, rec):
        roll = self.r.random()
        if roll < 0.01:
            return json.dumps(rec)[: self.r.randint(0, 20)]  # truncated
        if roll < 0.02:
            return self.r.choice(["[1,2]", "null", "42", '"s"', "{", "}", "NaN", '{"a":1e999}', "\xff\xfe"])
        if roll < 0.06:
            return ""  # blank lines are allowed
        return json.dumps(rec, ensure_ascii=self.r.random() < 0.5)

    def jsonl(self, path, fields, n_lo=1, n_hi=12, extra=None):
        n = self.r.randint(n_lo, n_hi)
        lines = []
        for _ in range(n):
            rec = self.record(fields)
            if extra:
                extra(rec)
            lines.append(self.line(rec))
        if self.r.random() < 0.03:
            lines = []  # empty file
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write("\n".join(lines) + ("\n" if self.r.random() < 0.9 else ""))

    def task_extra(self, rec):
        if self.r.random() < 0.5 and isinstance(rec.get("answer"), str):
            choices = [rec["answer"], self.text(1, 2), self.text(1, 2)]
            self.r.shuffle(choices)
            if self.r.random() < 0.03:
                choices = [c for c in choices if c != rec["answer"]]
            rec["choices"] = choices

    def ints(self, lo, hi):
        if self.r.random() < 0.85:
            return str(self.r.randint(lo, hi))
        return self.r.choice(["0", "-1", "9223372036854775807", "99999999999999999999", "1e3", "", "abc", str(hi + 1)])

    def numbers(self, k=3):
        vals = []
        for _ in range(self.r.randint(1, k)):
            if self.r.random() < 0.9:
                vals.append(self.r.choice([str(self.r.uniform(-20, 20))[:5], "0", "4", "19"]))
            else:
                vals.append(self.r.choice(["nan", "inf", "1e39", "-1e38", "abc", "3e38", "", "1e30"]))
        return ",".join(vals)

    def klist(self):
        good, bad = ["1", "2", "4", "3"], ["0", "-3", "99", "x", "12", ""]
        return ",".join(self.r.choice(good if self.r.random() < 0.9 else bad) for _ in range(self.r.randint(1, 3)))


def mutate_bytes(rng, src, dst):
    b = bytearray(open(src, "rb").read())
    kind = rng.choice(["truncate", "flip", "zero"])
    if kind == "truncate":
        b = b[: rng.randint(0, len(b))]
    elif kind == "flip":
        for _ in range(rng.randint(1, 20)):
            if b:
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    else:
        start = rng.randrange(max(1, len(b)))
        b[start:start + rng.randint(1, 256)] = bytes(min(256, len(b) - start))
    open(dst, "wb").write(bytes(b))


def mutate_manifest(rng, model_src, dst):
    shutil.copytree(model_src, dst)
    p = os.path.join(dst, "manifest.json")
    j = json.load(open(p))
    keys = [("dims", k) for k in j["dims"]] + [(k,) for k in ("dtype", "architecture", "format_version", "tied_embeddings")]
    key = rng.choice(keys)
    node = j
    for k in key[:-1]:
        node = node[k]
    node[key[-1]] = rng.choice([None, 0, -1, 2**63, 1.5, "x", node[key[-1]] * 2 if isinstance(node[key[-1]], int) else 7])
    if rng.random() < 0.2:
        del node[key[-1]]
    json.dump(j, open(p, "w"))


def names_the_input(err_line, named):
    """The line names an input, a record, or a flag (one given, or one to give: '--dev or ...')."""
    import re
    line = err_line.replace("(see --help)", "")
    return any(n and n in line for n in named) or re.search(r"(^|\s)--[a-z][a-z-]+[:\s]", line[len("sadi: error: "):])


def check_stdout(args, stdout):
    """--json output of info and inspect must be valid JSON; tokenize prints ids per line."""
    if "--json" in args:
        try:
            json.loads(stdout.decode("utf-8"))
        except ValueError as e:
            return f"--json printed invalid JSON: {e}"
    if args[0] == "tokenize" and "--decode" not in args:
        for line in stdout.decode("utf-8", "replace").splitlines():
            try:
                ids = json.loads(line)
            except ValueError:
                ids = None
            if not isinstance(ids, list) or not all(isinstance(t, int) for t in ids):
                return f"tokenize printed a line that is not a JSON list of ids: {line[:80]}"
    return None


def check_result(cmd, out, rc):
    """Well-formed output of a successful run; returns a reason or None."""
    if cmd in ("info", "tokenize", "inspect"):
        return None
    if cmd == "merge":
        return None if os.path.exists(out) else f"exit 0 but no output at {out}"
    if out is None or not os.path.exists(out):
        return None if cmd == "generate-stdout" else f"exit 0 but no output at {out}"
    if cmd == "identify":
        return None  # read back below by inspect
    if cmd == "eval":
        try:
            j = json.load(open(out))
        except ValueError as e:
            return f"results not JSON: {e}"
        return None if "grid" in j and "selected" in j else "results without grid/selected"
    if cmd == "generate":
        for line in open(out, encoding="utf-8"):
            try:
                rec = json.loads(line)
            except ValueError as e:
                return f"generate line not JSON: {e}"
            if "output" not in rec or "output_ids" not in rec:
                return "generate line without output"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sadi", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--keep", default=None, help="folder to keep failing cases in")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--show-errors", action="store_true", help="print every error line (to judge the mix)")
    ap.add_argument("--only", type=int, default=0, help="run only case N of this seed (to reproduce a failure)")
    a = ap.parse_args()
    master = random.Random(a.seed)
    model = os.path.join(a.data, "llama")
    work = tempfile.mkdtemp(prefix="sadi-soak-")
    failures, cases, counts = [], 0, {}
    t_end = time.time() + a.seconds
    # a valid mask to steer with (its making is itself checked like every case)
    base = os.path.join(work, "base")
    os.makedirs(base)
    pairs0 = os.path.join(base, "pairs.jsonl")
    with open(pairs0, "w") as f:
        for w in ["The sky is", "Snow is", "Grass is", "The sea is"]:
            f.write(json.dumps({"prompt": w, "positive": " blue", "negative": " red"}) + "\n")
    mask0 = os.path.join(base, "mask.h5")
    subprocess.run([a.sadi, "identify", "--model", model, "--pairs", pairs0, "--out", mask0, "--log-level", "warn"],
                   check=True)
    try:
        while time.time() < t_end:
            cases += 1
            rng = random.Random(master.getrandbits(64))
            if a.only and cases < a.only:
                continue
            if a.only and cases > a.only:
                break
            case_dir = os.path.join(work, f"case{cases}")
            os.makedirs(case_dir)
            g = Gen(rng)
            cmd = rng.choice(["identify", "eval", "eval", "generate", "merge", "info", "tokenize", "inspect"])
            m = model
            if rng.random() < (0.3 if cmd in ("info", "tokenize") else 0.06):
                m = os.path.join(case_dir, "model")
                mutate_manifest(rng, model, m)
            mask = mask0
            if rng.random() < 0.08:
                mask = os.path.join(case_dir, "mask.h5")
                mutate_bytes(rng, mask0, mask)
            out = os.path.join(case_dir, "out" + (".h5" if cmd == "identify" else ".jsonl" if cmd == "generate" else ".json"))
            inputs = [m]
            if cmd == "identify":
                src = os.path.join(case_dir, "pairs.jsonl")
                g.jsonl(src, ["prompt", "positive", "negative"])
                inputs.append(src)
                args = ["identify", "--model", m, "--pairs", src]
                if rng.random() < 0.5:
                    args += ["--sites", rng.choice(["head", "neuron,hidden", "residual", "head,neuron,hidden,residual", "heads"])]
                if rng.random() < 0.3:
                    args += ["--top-k", g.ints(1, 20)]
                if rng.random() < 0.3:
                    args += ["--batch-size", g.ints(1, 8)]
                if rng.random() < 0.2:
                    args += ["--bootstrap", g.ints(0, 10)]
                if rng.random() < 0.2:
                    args += ["--max-pairs", g.ints(0, 10)]
                if rng.random() < 0.2:  # odd separators (invalid UTF-8 included): the mask must read back as JSON
                    args += ["--separator", rng.choice([" ", "\n", "\t", "", "é", " ⇒ ", b"\xff", b"\xc3", "\\u0000"])]
            elif cmd == "eval":
                src = os.path.join(case_dir, "task.jsonl")
                g.jsonl(src, ["prompt", "answer"], 2, 14, g.task_extra)
                inputs.append(src)
                args = ["eval", "--model", m, "--task", src]
                if rng.random() < 0.7:
                    inputs.append(mask)
                    args += ["--mask", mask, "--top-k", g.klist(), "--delta", g.numbers()]
                    if rng.random() < 0.4:
                        args += ["--baselines", rng.choice(["none,random", "none,fixed-raw", "none,caa", "none,iti",
                                                            "none,fixed", "none,random,caa", "none,fixed-dir", "bogus"])]
                        args += ["--random-seeds", g.ints(1, 3)] if rng.random() < 0.5 else []
                    if rng.random() < 0.3:
                        args += ["--site", rng.choice(["head", "neuron", "hidden", "residual"])]
                if rng.random() < 0.4:
                    args += ["--metric", rng.choice(["exact-match", "choice", "choice", "generate-em", "em"])]
                if rng.random() < 0.4:
                    args += ["--dev-fraction", rng.choice(["0.5", "0.3", "0.5", "0.4", "1", "-0.5", "nan", "0.001"])]
                if rng.random() < 0.2:
                    args += ["--batch-size", g.ints(1, 16)]
                if rng.random() < 0.1:
                    args += ["--max-new-tokens", g.ints(1, 4)]
            elif cmd == "merge":  # masks (possibly damaged), shards of one identify, or results files
                src = os.path.join(case_dir, "shards")
                os.makedirs(src)
                shards = []
                if rng.random() < 0.5:
                    n = rng.randint(1, 3)
                    pairs = os.path.join(case_dir, "pairs.jsonl")
                    g.jsonl(pairs, ["prompt", "positive", "negative"], 2, 6)
                    for i in range(1, n + 1):
                        sh = os.path.join(src, f"s{i}.h5")
                        subprocess.run([a.sadi, "identify", "--model", model, "--pairs", pairs, "--out", sh, "--shard",
                                        f"{i}/{n}", "--log-level", "error"], capture_output=True, timeout=a.timeout)
                        if os.path.exists(sh) and rng.random() < 0.2:
                            mutate_bytes(rng, sh, sh + ".bad")
                            os.replace(sh + ".bad", sh)
                        if os.path.exists(sh) and (rng.random() < 0.9 or not shards):
                            shards.append(sh)
                else:
                    for i in range(rng.randint(1, 3)):
                        sh = os.path.join(src, f"r{i}.json")
                        with open(sh, "w") as f:
                            f.write(rng.choice([json.dumps({"partial": False, "grid": []}), "{", json.dumps(g.record(["x"])),
                                                json.dumps({"shard": {"index": 1, "count": 2}, "grid": [{"k": 1}]})]))
                        shards.append(sh)
                if not shards:  # every shard's identify refused its pairs: merge a damaged results file
                    shards.append(os.path.join(src, "r.json"))
                    with open(shards[0], "w") as f:
                        f.write("{")
                inputs += shards
                out = os.path.join(case_dir, "merged" + (".h5" if shards and shards[0].endswith(".h5") else ".json"))
                args = ["merge"] + shards
            elif cmd == "info":
                src = None
                args = ["info", m] + (["--json"] if rng.random() < 0.5 else []) + (["--check"] if rng.random() < 0.3 else [])
            elif cmd == "tokenize":
                src = os.path.join(case_dir, "lines.txt")
                with open(src, "w", encoding="utf-8") as f:
                    for _ in range(rng.randint(0, 5)):
                        f.write((json.dumps(g.text()) if rng.random() < 0.5 else g.text()) + "\n")
                inputs.append(src)
                args = ["tokenize", m] + (["--text", g.text()] if rng.random() < 0.4 else ["--input", src])
                args += ["--jsonl"] if rng.random() < 0.4 else []
                args += ["--decode"] if rng.random() < 0.3 else []
                args += ["--no-bos"] if rng.random() < 0.3 else []
            elif cmd == "inspect":
                src = None
                inputs = [mask]
                args = ["inspect", mask] + (["--json"] if rng.random() < 0.5 else [])
                if rng.random() < 0.3:
                    args += ["--site", rng.choice(["head", "neuron", "hidden", "residual", "elbow"])]
                if rng.random() < 0.3:
                    args += ["--top", g.ints(1, 30)]
            else:
                src = os.path.join(case_dir, "prompts.jsonl")
                g.jsonl(src, ["prompt"], 1, 6)
                inputs.append(src)
                args = ["generate", "--model", m, "--input", src, "--max-new-tokens", g.ints(1, 6)]
                if rng.random() < 0.5:
                    inputs.append(mask)
                    args += ["--mask", mask, "--top-k", g.klist().split(",")[0], "--delta", g.numbers(1)]
                if rng.random() < 0.3:
                    args += ["--temperature", rng.choice(["0", "0.7", "1.3", "0.7", "-1", "nan", "1e309"]), "--seed", g.ints(0, 99)]
                if rng.random() < 0.2:
                    args += ["--batch-size", g.ints(1, 4)]
            writes = cmd not in ("info", "tokenize", "inspect")
            roll = rng.random()
            if not writes:
                out = None
            elif roll < 0.04 and src and os.path.isfile(src):
                out = src  # --out naming an input: must be refused, the input unchanged
            elif roll < 0.06:
                out = os.path.join(case_dir, "no-such-dir", "out")
            args += (["--out", out] if writes else []) + ["--log-level", "warn"]
            shown = [x.decode("utf-8", "backslashreplace") if isinstance(x, bytes) else x for x in args]
            before = snapshot(inputs)
            t0 = time.time()
            try:
                p = subprocess.run([a.sadi] + args, capture_output=True, timeout=a.timeout,
                                   env=dict(os.environ, SADI_MAX_LINE_BYTES="65536"))
                rc, err, stdout = p.returncode, p.stderr.decode("utf-8", "replace"), p.stdout
            except subprocess.TimeoutExpired:
                rc, err, stdout = "timeout", "", b""
            reasons = []
            if rc == "timeout" or rc < 0:
                reasons.append(f"ended by {'a timeout' if rc == 'timeout' else f'signal {-rc}'}")
            elif rc not in DOCUMENTED:
                reasons.append(f"undocumented exit code {rc}")
            elif rc == 0:
                if out is not None and out == src:
                    reasons.append("--out naming an input was accepted")
                else:
                    why = check_result(cmd, out, rc) or check_stdout(args, stdout)
                    if why:
                        reasons.append(why)
                    elif cmd == "identify":
                        q = subprocess.run([a.sadi, "inspect", out, "--json"], capture_output=True, timeout=a.timeout)
                        if q.returncode != 0:
                            reasons.append(f"the mask written cannot be inspected: {q.stderr.decode()[-300:]}")
                        elif check_stdout(["inspect", "--json"], q.stdout):
                            reasons.append(check_stdout(["inspect", "--json"], q.stdout))
            else:
                lines = [ln for ln in err.splitlines() if ln.startswith("sadi: error: ")]
                if len(lines) != 1:
                    reasons.append(f"expected one 'sadi: error:' line, found {len(lines)}")
                else:
                    flags = [x for x in shown if x.startswith("--")]
                    named = [os.path.basename(x) for x in inputs + [out] if x] + flags + [
                        "pair '", "item '", "prompt '", "no usable pairs", "model forward", "out of memory"]
                    if not names_the_input(lines[0], named):
                        reasons.append(f"the message names no input, flag or record: {lines[0]}")
                if out is not None and out != src and os.path.exists(out):
                    reasons.append("a failed run left its output file")
            left = temp_files([case_dir, base, os.path.dirname(model)])
            if left:
                reasons.append(f"temporary files left: {left}")
            after = snapshot(inputs)
            if after != before:
                changed = [k for k in before if before.get(k) != after.get(k)]
                reasons.append(f"inputs changed: {changed}")
            counts[(cmd, rc)] = counts.get((cmd, rc), 0) + 1
            if a.show_errors and rc != 0:
                print(f"  case {cases} {cmd} exit {rc}: " + next((ln for ln in err.splitlines() if ln.startswith("sadi: ")), "")[:200])
            if a.only:
                print(f"case {cases}: sadi {' '.join(shown)}")
            if reasons:
                failures.append((cases, args, reasons, err[-600:]))
                print(f"FAIL case {cases} (seed {a.seed}): sadi {' '.join(shown)}\n  " + "\n  ".join(reasons)
                      + f"\n  stderr: {err[-400:]}", flush=True)
                if a.keep:
                    shutil.copytree(case_dir, os.path.join(a.keep, f"case{cases}"), dirs_exist_ok=True)
            shutil.rmtree(case_dir, ignore_errors=True)
            if time.time() - t0 > 30:
                print(f"note: case {cases} took {time.time() - t0:.0f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tally = ", ".join(f"{c} exit {rc}: {n}" for (c, rc), n in sorted(counts.items(), key=lambda kv: str(kv[0])))
    print(f"soak: seed {a.seed}, {cases if not a.only else 1} cases in {a.seconds:.0f} s ({tally}); {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
