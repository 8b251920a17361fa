#!/usr/bin/env python3
"""Run identify + eval for every model x task x site of a suite config and write a Table-1-style
summary (markdown and CSV): the unsteered baseline, SADI at each site and each baseline method,
each at its dev-selected K and delta, reported on test.

    .venv/bin/python scripts/eval_suite.py --config configs/suites/samples.json --out-dir out/suite \\
        [--sadi build/apps/sadi] [--model NAME=DIR ...] [--resume] [--dry-run]

Per model and task: the raw file is converted (scripts/convert_task.py with configs/tasks/*.json);
pairs for identification come from `identify_raw` when given, otherwise from a seeded
`identify_fraction` of the records, which are then left out of the task (no item is used both
to find the mask and to score it). One `sadi identify` per model and task covers every site; one
`sadi eval` per site runs its grid, `none` and the baselines (caa is site-independent and run
with the first site). Files: OUT/data, OUT/runs/MODEL/TASK/{mask.h5,SITE.json}, OUT/logs,
OUT/summary.md, OUT/summary.csv. With --resume, result files already there are reused (they are
written atomically); a partial result left by an interrupted eval is continued (sadi eval --resume). docs/eval-suite.md describes the config.
"""
import argparse
import csv
import io
import json
import os
import random
import shlex
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import convert_task  # noqa: E402
import suite_slurm  # noqa: E402

FORMAT_VERSION = 1
SITE_LABEL = {"head": "SADI-head", "neuron": "SADI-neuron", "hidden": "SADI-hidden", "residual": "SADI-residual"}


class SuiteError(Exception):
    pass


def bad(where, key, expected, found):
    raise SuiteError(f"{where}: key '{key}': expected {expected}, found {json.dumps(found)}")


def load_suite(path, overrides):
    try:
        cfg = json.load(open(path, encoding="utf-8"))
    except OSError as e:
        raise SuiteError(f"{path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        raise SuiteError(f"{path}:{e.lineno}: not valid JSON: {e.msg}")
    if cfg.get("format_version") != FORMAT_VERSION:
        bad(path, "format_version", FORMAT_VERSION, cfg.get("format_version"))
    for key, kind in (("models", list), ("tasks", list), ("sites", list)):
        if not isinstance(cfg.get(key), kind) or not cfg[key]:
            bad(path, key, f"a non-empty {kind.__name__}", cfg.get(key))
    models = {}
    for i, m in enumerate(cfg["models"]):
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not isinstance(m.get("dir"), str):
            bad(path, f"models[{i}]", '{"name": ..., "dir": ...}', m)
        models[m["name"]] = m["dir"]
    for o in overrides:
        name, sep, d = o.partition("=")
        if not sep or name not in models:
            raise SuiteError(f"--model {o}: expected NAME=DIR with NAME one of {sorted(models)}")
        models[name] = d
    cfg["models"] = [{"name": n, "dir": d} for n, d in models.items()]
    for i, t in enumerate(cfg["tasks"]):
        if not isinstance(t, dict) or not all(isinstance(t.get(k), str) for k in ("name", "config", "raw")):
            bad(path, f"tasks[{i}]", '{"name", "config", "raw"[, "identify_raw" | "identify_fraction"]}', t)
        frac = t.get("identify_fraction", cfg.get("identify_fraction", 0.5))
        if "identify_raw" not in t and not (isinstance(frac, (int, float)) and 0 < frac < 1):
            bad(path, f"tasks[{i}].identify_fraction", "a number in (0, 1)", frac)
    grids = cfg.get("grids")
    if isinstance(grids, str):
        grids = json.load(open(grids, encoding="utf-8"))
    for s in cfg["sites"]:
        if s not in SITE_LABEL:
            bad(path, "sites", "head, neuron, hidden or residual", s)
        g = (grids or {}).get(s)
        if not isinstance(g, dict) or not g.get("top_k") or not g.get("delta"):
            bad(path, f"grids.{s}", "{\"top_k\": [...], \"delta\": [...]}", g)
    cfg["grids"] = grids
    for method, keys in BASELINE_GRIDS.items():  # the baselines' own grids: never a site's
        g = cfg.get(method, {})
        if not isinstance(g, dict) or {k for k in g if not k.startswith("_")} - set(keys):
            bad(path, method, "{" + ", ".join(f'"{k}": [...]' for k in keys) + "} (each optional)", g)
        g = cfg[method] = {k: v for k, v in g.items() if not k.startswith("_")}
        for k in g:
            if not isinstance(g[k], list) or not g[k] or not all(isinstance(x, (int, float)) for x in g[k]):
                bad(path, f"{method}.{k}", "a non-empty list of numbers", g[k])
    for b in cfg.get("baselines", []):
        if b not in BASELINES:
            bad(path, "baselines", ", ".join(BASELINES), b)
    return cfg


def prepare_task(cfg, task, data_dir):
    """Writes DATA/TASK.pairs.jsonl and DATA/TASK.task.jsonl; returns their paths."""
    seed = cfg.get("seed", 0)
    tcfg = convert_task.load_config(task["config"])
    pairs, items = convert_task.convert(tcfg, task["raw"], seed, task.get("limit", 0))
    if "identify_raw" in task:
        pairs, _ = convert_task.convert(tcfg, task["identify_raw"], seed, task.get("identify_limit", 0))
    else:
        frac = task.get("identify_fraction", cfg.get("identify_fraction", 0.5))
        order = list(range(len(items)))
        random.Random(seed).shuffle(order)
        n_id = round(frac * len(items))
        if n_id < 1 or n_id >= len(items):
            raise SuiteError(f"task {task['name']}: identify_fraction {frac} of {len(items)} records leaves no "
                             "pairs or no items to score")
        chosen = set(order[:n_id])
        pairs = [p for i, p in enumerate(pairs) if i in chosen]
        items = [t for i, t in enumerate(items) if i not in chosen]
    p = os.path.join(data_dir, f"{task['name']}.pairs.jsonl")
    t = os.path.join(data_dir, f"{task['name']}.task.jsonl")
    convert_task.write_jsonl(p, pairs)
    convert_task.write_jsonl(t, items)
    return p, t


class Runner:
    def __init__(self, sadi, log_dir, dry_run):
        self.sadi, self.log_dir, self.dry_run = sadi, log_dir, dry_run

    def __call__(self, name, args):
        cmd = [self.sadi, *args]
        print("+ " + " ".join(shlex.quote(c) for c in cmd), file=sys.stderr)
        if self.dry_run:
            return
        log = os.path.join(self.log_dir, name + ".log")
        with open(log, "w", encoding="utf-8") as f:
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            tail = open(log, encoding="utf-8", errors="replace").read()[-2000:]
            raise SuiteError(f"{' '.join(shlex.quote(c) for c in cmd)} failed with exit code {r.returncode} "
                             f"(log {log}):\n{tail}")


def identify_sites(cfg):
    """Every site the suite's evals need: its sites, residual for CAA, heads for ITI."""
    return sorted(set(cfg["sites"]) | ({"residual"} if "caa" in cfg.get("baselines", []) else set())
                  | ({"head"} if "iti" in cfg.get("baselines", []) else set()))


def task_commands(cfg, model, task, out):
    """The sadi commands of one model x task, without --out: the same for a run on this machine
    and on Slurm. Returns {"rdir", "mask", "identify": args, "evals": [{"site", "result", "args"}]}."""
    data = os.path.join(out, "data")
    pairs = os.path.join(data, f"{task['name']}.pairs.jsonl")
    items = os.path.join(data, f"{task['name']}.task.jsonl")
    rdir = os.path.join(out, "runs", model["name"], task["name"])
    mask = os.path.join(rdir, "mask.h5")
    common = ["--seed", str(cfg.get("seed", 0)), "--metric", cfg.get("metric", "exact-match"),
              "--mode", cfg.get("mode", "live"), "--batch-size", str(cfg.get("batch_size", 32))]
    identify = ["identify", "--model", model["dir"], "--pairs", pairs, "--sites", ",".join(identify_sites(cfg)),
                *[str(x) for x in cfg.get("identify_args", [])]]
    evals = []
    for n, site in enumerate(cfg["sites"]):
        baselines = ["none"] + [b for b in cfg.get("baselines", []) if b not in SITE_FREE or n == 0]
        own = [a for b in baselines if b in BASELINE_GRIDS for k, flag in BASELINE_GRIDS[b].items()
               if k in cfg.get(b, {}) for a in (flag, ",".join(map(str, cfg[b][k])))]
        g = cfg["grids"][site]
        evals.append({"site": site, "result": os.path.join(rdir, f"{site}.json"), "args": [
            "eval", "--model", model["dir"], "--task", items, "--dev-fraction", str(cfg.get("dev_fraction", 0.5)),
            "--mask", mask, "--site", site, "--top-k", ",".join(map(str, g["top_k"])),
            "--delta", ",".join(map(str, g["delta"])), "--baselines", ",".join(baselines), *own, *common,
            *[str(x) for x in cfg.get("eval_args", [])]]})
    return {"rdir": rdir, "mask": mask, "identify": identify, "evals": evals}


def prepare_all(cfg, out):
    """Converts every task once into OUT/data (the same files for every model)."""
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    for task in cfg["tasks"]:
        prepare_task(cfg, task, os.path.join(out, "data"))


def run_suite(cfg, out, sadi, resume, dry_run):
    """Runs every step on this machine, one after another."""
    for d in ("runs", "logs"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    prepare_all(cfg, out)
    run = Runner(sadi, os.path.join(out, "logs"), dry_run)
    for model in cfg["models"]:
        for task in cfg["tasks"]:
            cmds = task_commands(cfg, model, task, out)
            os.makedirs(cmds["rdir"], exist_ok=True)
            tag = f"{model['name']}.{task['name']}"
            if not (resume and os.path.exists(cmds["mask"])):
                run(f"{tag}.identify", [*cmds["identify"], "--out", cmds["mask"]])
            for ev in cmds["evals"]:
                res = ev["result"]
                if not (resume and finished(res)):
                    # an interrupted eval left a partial result: --resume continues it
                    again = ["--resume"] if resume and os.path.exists(res) else []
                    run(f"{tag}.{ev['site']}.eval", [*ev["args"], "--out", res, *again])


def collect_rows(cfg, out):
    """The summary rows of every result file; SuiteError names the first one missing or partial."""
    rows = []
    for model in cfg["models"]:
        for task in cfg["tasks"]:
            for n, ev in enumerate(task_commands(cfg, model, task, out)["evals"]):
                if not finished(ev["result"]):
                    what = "partial" if os.path.exists(ev["result"]) else "missing"
                    raise SuiteError(f"{ev['result']}: expected the finished result of sadi eval, found it {what}")
                rows.extend(summary_rows(model["name"], task["name"], ev["site"], n == 0, ev["result"]))
    return rows


def write_summary(cfg, config_path, out):
    rows = collect_rows(cfg, out)
    md = f"# {cfg.get('title', 'sadi eval suite')}\n\nConfig: `{config_path}`\n\n" + markdown(rows, cfg)
    convert_task.write_text_atomic(os.path.join(out, "summary.md"), md)
    convert_task.write_text_atomic(os.path.join(out, "summary.csv"), to_csv(rows))
    return md


def finished(path):
    """A results file that exists and is not the partial result of an interrupted sadi eval."""
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as f:
        return not json.load(f).get("partial", False)


BASELINES = ("fixed", "fixed-dir", "fixed-raw", "random", "caa", "iti")
# config key -> {its list: sadi eval's flag}; absent lists take sadi eval's defaults
BASELINE_GRIDS = {"iti": {"top_k": "--iti-top-k", "alpha": "--iti-alpha"},
                  "caa": {"layers": "--caa-layers", "multipliers": "--caa-multipliers"}}
SITE_FREE = ("caa", "iti")  # run once per task (caa: residual stream, iti: heads), with the first site


def selected_cell(r):
    """K / delta of a selected row; delta alone without K; random: each seed has its own."""
    if r is None:
        return "-"
    if r["delta"] == "":
        return "per seed"
    return f"{r['delta']:g}" if r["top_k"] == "" else f"{r['top_k']} / {r['delta']:g}"


def summary_rows(model, task, site, first_site, path):
    r = json.load(open(path, encoding="utf-8"))
    out = []
    for method, sel in r["selected"].items():
        if method == "none" and not first_site:
            continue  # the unsteered baseline is the same at every site
        if method in SITE_FREE and not first_site:
            continue
        if method == "caa":
            label, s = "CAA", "residual"
        elif method == "iti":
            label, s = "ITI", "head"
        elif method == "none":
            label, s = "baseline", ""
        elif method == "sadi":
            label, s = SITE_LABEL[site], site
        else:
            label, s = f"{method}-{site}", site
        out.append({"model": model, "task": task, "row": label, "method": method, "site": s,
                    "top_k": sel.get("top_k", "") if method not in ("none", "caa") else "",
                    "delta": sel.get("delta", "") if method != "none" else "",
                    "dev_accuracy": sel["dev_accuracy"], "test_accuracy": sel["test_accuracy"],
                    # random: the mean over seeds; its spread is the sd over seeds, not an interval
                    "ci_lo": sel["test_ci95"][0] if "test_ci95" in sel else "",
                    "ci_hi": sel["test_ci95"][1] if "test_ci95" in sel else "", "n_test": r["task"]["n_test"],
                    "results": os.path.relpath(path), **vs_sadi_fields(sel, site)})
    return out


def vs_sadi_fields(sel, site):
    """A baseline's comparison with SADI at `site` on the same test items (sadi eval's
    selected.*.vs_sadi): the difference SADI - baseline, its paired and selection-aware 95%
    intervals and the p-value; empty for SADI itself and for results without them."""
    v = sel.get("vs_sadi")
    if not v:
        return {k: "" for k in VS_FIELDS}
    return {"vs_sadi_site": site, "diff_vs_sadi": v["diff"], "diff_lo": v["diff_ci95"][0], "diff_hi": v["diff_ci95"][1],
            "diff_sel_lo": v["diff_ci95_selection_aware"][0], "diff_sel_hi": v["diff_ci95_selection_aware"][1],
            "p_vs_sadi": v["p"], "p_test": v["test"]}


VS_FIELDS = ["vs_sadi_site", "diff_vs_sadi", "diff_lo", "diff_hi", "diff_sel_lo", "diff_sel_hi", "p_vs_sadi", "p_test"]


def vs_cell(r):
    """'+3.0 [-1.5, +7.5] p=0.21' in accuracy points, or '-'."""
    if r is None or r.get("diff_vs_sadi", "") == "":
        return "-"
    pts = lambda x: f"{100 * x + 0.0:+.1f}".replace("-0.0", "+0.0")  # noqa: E731
    return f"{pts(r['diff_vs_sadi'])} [{pts(r['diff_lo'])}, {pts(r['diff_hi'])}] p={r['p_vs_sadi']:.2g}"


def row_order(label):
    fixed = ["baseline", "CAA", "SADI-hidden", "SADI-neuron", "SADI-head", "SADI-residual"]
    return (fixed.index(label), label) if label in fixed else (len(fixed), label)


def markdown(rows, cfg):
    lines = []
    tasks = [t["name"] for t in cfg["tasks"]]
    for model in [m["name"] for m in cfg["models"]]:
        mine = [r for r in rows if r["model"] == model]
        cells = {(r["row"], r["task"]): r for r in mine}
        labels = sorted({r["row"] for r in mine}, key=row_order)
        lines += [f"## {model}", "",
                  "Test accuracy (%) at the K and delta selected on the dev split "
                  f"(metric {cfg.get('metric', 'exact-match')}, mode {cfg.get('mode', 'live')}).", "",
                  "| method | " + " | ".join(tasks) + " | avg |", "|---|" + "---|" * (len(tasks) + 1)]
        n = [str(next((r["n_test"] for r in mine if r["task"] == t), "-")) for t in tasks]
        lines.append("| *n test* | " + " | ".join(n) + " | |")
        for label in labels:
            accs = [cells[(label, t)]["test_accuracy"] * 100 if (label, t) in cells else None for t in tasks]
            have = [a for a in accs if a is not None]
            avg = f"{sum(have) / len(have):.2f}" if len(have) == len(tasks) else "-"
            lines.append(f"| {label} | " + " | ".join("-" if a is None else f"{a:.2f}" for a in accs) + f" | {avg} |")
        lines += ["", "Selected on dev (K / delta):", "",
                  "| method | " + " | ".join(tasks) + " |", "|---|" + "---|" * len(tasks)]
        for label in labels:
            if label == "baseline":
                continue
            sel = []
            for t in tasks:
                r = cells.get((label, t))
                sel.append(selected_cell(r))
            lines.append(f"| {label} | " + " | ".join(sel) + " |")
        lines += ["", "SADI minus each baseline on the same test items, both at their dev-selected points (accuracy "
                  "points; paired bootstrap 95% interval; exact McNemar p, random: sign-flip permutation over its "
                  "seeds' mean). A site's controls are compared with SADI at that site; baseline, CAA and ITI with "
                  f"{SITE_LABEL[cfg['sites'][0]]}. summary.csv also holds the selection-aware intervals.", "",
                  "| method | " + " | ".join(tasks) + " |", "|---|" + "---|" * len(tasks)]
        for label in labels:
            if label.startswith("SADI-"):
                continue
            lines.append(f"| {label} | " + " | ".join(vs_cell(cells.get((label, t))) for t in tasks) + " |")
        lines.append("")
    return "\n".join(lines)


def to_csv(rows):
    buf = io.StringIO()
    fields = ["model", "task", "row", "method", "site", "top_k", "delta", "dev_accuracy", "test_accuracy", "ci_lo",
              "ci_hi", "n_test", *VS_FIELDS, "results"]
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in sorted(rows, key=lambda r: (r["model"], r["task"], row_order(r["row"]))):
        w.writerow(r)
    return buf.getvalue()


def main(argv=None):
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()) +
                                 " On a Slurm cluster: --slurm, --status, --resume (docs/cluster.md).")
    ap.add_argument("--config", help="suite config (configs/suites/*.json); with --status, or --slurm --resume, "
                    "the one saved in OUT/slurm is used when omitted")
    ap.add_argument("--out-dir", required=True, help="where data, runs, logs and the summary go")
    ap.add_argument("--sadi", default=os.path.join(ROOT, "build", "apps", "sadi"), help="the sadi binary")
    ap.add_argument("--model", action="append", default=[], help="NAME=DIR: use DIR for the config's model NAME")
    ap.add_argument("--resume", action="store_true", help="reuse result files already in --out-dir; with --slurm: "
                    "submit again only what failed or is missing")
    ap.add_argument("--dry-run", action="store_true", help="print the commands only (with --slurm: the sbatch "
                    "commands, nothing submitted)")
    ap.add_argument("--summary-only", action="store_true", help="write the summary from the results already there")
    suite_slurm.add_arguments(ap)
    args = ap.parse_args(argv)
    try:
        if args.status:
            return suite_slurm.status(args)
        if args.slurm:
            return suite_slurm.submit(args, sys.modules[__name__])
        if not args.config:
            raise SuiteError("--config is required (except with --status or --slurm --resume)")
        cfg = load_suite(args.config, args.model)
        if not args.summary_only:
            run_suite(cfg, args.out_dir, args.sadi, args.resume, args.dry_run)
        if args.dry_run:
            return 0
        print(write_summary(cfg, args.config, args.out_dir))
    except (SuiteError, suite_slurm.SlurmError, convert_task.InputError) as e:
        print(f"eval_suite: error: {e}", file=sys.stderr)
        return 3
    except OSError as e:
        print(f"eval_suite: error: {e}", file=sys.stderr)
        return 4
    print(f"eval_suite: wrote {args.out_dir}/summary.md and summary.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
