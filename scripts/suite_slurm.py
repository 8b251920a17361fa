"""eval_suite.py --slurm: the suite as Slurm jobs (docs/cluster.md).

Per model x task: `sadi identify` (one job, or an array of --identify-shards shards and a merge
job), then per site an array of `sadi eval --shard I/N` elements and a merge job, each after the
step it needs (sbatch --dependency=afterok, --kill-on-invalid-dep=yes); last, the summary job.
Everything is recorded in OUT/slurm: plan.json (the steps, written once), suite.json (the config
as resolved), jobs.json (every submission), logs/ (one file per job element). --status reads the
files each step writes and what Slurm knows; --resume submits again only the elements whose output
is neither there nor on its way (pending or running), and the steps after them.
"""
import datetime
import getpass
import json
import os
import shlex
import subprocess
import sys
import time

import convert_task

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PLAN_VERSION = 1
ACTIVE = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD",
          "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD"}
COMPUTE_KINDS = ("identify", "eval")
DEFAULT_TIME = {"identify": "04:00:00", "eval": "04:00:00", "merge": "00:30:00", "summary": "00:10:00"}


class SlurmError(Exception):
    pass


def add_arguments(ap):
    g = ap.add_argument_group("Slurm (docs/cluster.md); flags override the config's \"slurm\" object")
    g.add_argument("--slurm", action="store_true", help="submit the suite as Slurm jobs instead of running it here")
    g.add_argument("--status", action="store_true", help="show what the submitted suite in --out-dir is doing")
    g.add_argument("--json", action="store_true", help="with --status: print JSON")
    g.add_argument("--wait", action="store_true", help="with --status: wait until nothing is pending or running; "
                   "exit 0 when complete, 1 when something failed")
    g.add_argument("--poll", type=float, default=30.0, help="with --wait: seconds between looks (30)")
    g.add_argument("--shards", type=int, help="eval shards per task and site (array elements)")
    g.add_argument("--identify-shards", type=int, help="identify shards per task (1: one unsharded job)")
    g.add_argument("--partition", help="partition of the identify and eval jobs")
    g.add_argument("--merge-partition", help="partition of the merge and summary jobs (default: --partition)")
    g.add_argument("--account")
    g.add_argument("--qos")
    g.add_argument("--time", help="time limit of each identify and eval job (e.g. 04:00:00)")
    g.add_argument("--gpus", type=int, help="GPUs per identify and eval job (--gres=gpu:N; 0: none)")
    g.add_argument("--cpus-per-task", type=int)
    g.add_argument("--mem", help="memory per identify and eval job (e.g. 64G)")
    g.add_argument("--signal-seconds", type=int, help="SIGTERM this many seconds before the time limit (120)")
    g.add_argument("--sbatch-arg", action="append", default=[], help="one more sbatch argument for identify and "
                   "eval jobs (repeat)")


# ---- options -------------------------------------------------------------------------------

def slurm_options(cfg, args, where):
    """The config's "slurm" object with the flags on top, validated."""
    o = dict(cfg.get("slurm", {}))
    if not isinstance(o, dict):
        raise SlurmError(f"{where}: key 'slurm': expected an object, found {json.dumps(o)}")
    flags = {"shards": args.shards, "identify_shards": args.identify_shards, "partition": args.partition,
             "merge_partition": args.merge_partition, "account": args.account, "qos": args.qos,
             "gpus": args.gpus, "cpus_per_task": args.cpus_per_task, "mem": args.mem,
             "signal_seconds": args.signal_seconds}
    o.update({k: v for k, v in flags.items() if v is not None})
    time = o.get("time", {})
    time = {k: time for k in COMPUTE_KINDS} if isinstance(time, str) else dict(time)
    if args.time:
        time.update({k: args.time for k in COMPUTE_KINDS})
    o["time"] = {k: time.get(k, v) for k, v in DEFAULT_TIME.items()}
    o["sbatch_args"] = [str(x) for x in o.get("sbatch_args", [])] + args.sbatch_arg
    known = {"shards", "identify_shards", "partition", "merge_partition", "account", "qos", "gpus", "cpus_per_task",
             "mem", "signal_seconds", "time", "sbatch_args"}
    for k in o:
        if k not in known:
            raise SlurmError(f"{where}: key 'slurm.{k}': expected one of {', '.join(sorted(known))}")
    for k, lo in (("shards", 1), ("identify_shards", 1), ("gpus", 0), ("cpus_per_task", 1), ("signal_seconds", 0)):
        v = o.setdefault(k, {"shards": 1, "identify_shards": 1, "gpus": 0, "signal_seconds": 120}.get(k))
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < lo):
            raise SlurmError(f"{where}: key 'slurm.{k}': expected an integer >= {lo}, found {json.dumps(v)}")
    for k, v in o["time"].items():
        if not isinstance(v, str) or not v:
            raise SlurmError(f"{where}: key 'slurm.time.{k}': expected a Slurm time such as 04:00:00, "
                             f"found {json.dumps(v)}")
    if o["identify_shards"] > 1 and "iti" in cfg.get("baselines", []):
        raise SlurmError(f"{where}: key 'slurm.identify_shards': expected 1 when the baselines include iti (its probes "
                         f"need every pair in one process), found {o['identify_shards']}")
    if o["identify_shards"] > 1 and "--bootstrap" in [str(x) for x in cfg.get("identify_args", [])]:
        raise SlurmError(f"{where}: key 'slurm.identify_shards': expected 1 with --bootstrap in identify_args (it "
                         f"resamples every pair), found {o['identify_shards']}")
    return o


def sbatch_resources(o, kind):
    """sbatch options of a job of `kind` (identify, eval, merge, summary)."""
    heavy = kind in COMPUTE_KINDS
    part = o.get("partition") if heavy else (o.get("merge_partition") or o.get("partition"))
    args = [f"--time={o['time'][kind]}"]
    args += [f"--partition={part}"] if part else []
    args += [f"--account={o['account']}"] if o.get("account") else []
    args += [f"--qos={o['qos']}"] if o.get("qos") else []
    if heavy:
        args += [f"--gres=gpu:{o['gpus']}"] if o["gpus"] else []
        args += [f"--cpus-per-task={o['cpus_per_task']}"] if o.get("cpus_per_task") else []
        args += [f"--mem={o['mem']}"] if o.get("mem") else []
        args += [f"--signal=B:TERM@{o['signal_seconds']}"] + o["sbatch_args"]
    return args


# ---- the plan ------------------------------------------------------------------------------

def count_lines(path):
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


def eval_shards(cfg, items, wanted, log):
    """`wanted`, or fewer where a split is smaller: sadi eval refuses an empty shard. The dev split
    is llround(dev_fraction * n) items (lib/eval/src/task.cpp split_dev), the rest is test."""
    n = count_lines(items)
    n_dev = int(cfg.get("dev_fraction", 0.5) * n + 0.5)
    k = max(1, min(wanted, n_dev, n - n_dev))
    if k < wanted:
        log(f"{items}: {k} eval shards, not {wanted} (dev {n_dev} and test {n - n_dev} items)")
    return k


def identify_shards(cfg, pairs, wanted, log):
    args = [str(x) for x in cfg.get("identify_args", [])]
    n = count_lines(pairs)
    if "--max-pairs" in args[:-1]:
        n = min(n, int(args[args.index("--max-pairs") + 1]))
    k = max(1, min(wanted, n))
    if k < wanted:
        log(f"{pairs}: {k} identify shards, not {wanted} ({n} pairs)")
    return k


def build_plan(cfg, opts, out, sadi, config_copy, task_commands, log):
    """The steps in submission order; each names the steps it runs after."""
    steps = []
    merges = []
    for model in cfg["models"]:
        for task in cfg["tasks"]:
            cmds = task_commands(cfg, model, task, out)
            base = f"{model['name']}/{task['name']}"
            pairs = cmds["identify"][cmds["identify"].index("--pairs") + 1]
            n_id = identify_shards(cfg, pairs, opts["identify_shards"], log)
            if n_id == 1:
                steps.append({"name": f"{base}/identify", "kind": "identify", "type": "single",
                              "argv": [sadi, *cmds["identify"], "--out", cmds["mask"]], "output": cmds["mask"],
                              "after": []})
                mask_step = f"{base}/identify"
            else:
                d = cmds["mask"][:-len(".h5")] + ".shards"
                steps.append({"name": f"{base}/identify", "kind": "identify", "type": "shards", "command": "identify",
                              "dir": d, "count": n_id, "args": cmds["identify"][1:], "after": []})
                steps.append({"name": f"{base}/identify-merge", "kind": "merge", "type": "merge",
                              "command": "identify", "dir": d, "output": cmds["mask"], "after": [f"{base}/identify"]})
                mask_step = f"{base}/identify-merge"
            items = cmds["evals"][0]["args"][cmds["evals"][0]["args"].index("--task") + 1]
            n_ev = eval_shards(cfg, items, opts["shards"], log)
            for ev in cmds["evals"]:
                d = ev["result"][:-len(".json")] + ".shards"
                name = f"{base}/{ev['site']}"
                if n_ev == 1:  # one job; a partial result left by SIGTERM is continued (--resume)
                    steps.append({"name": f"{name}/eval", "kind": "eval", "type": "single",
                                  "argv": [sadi, *ev["args"], "--out", ev["result"]], "output": ev["result"],
                                  "resume": True, "after": [mask_step]})
                    merges.append(f"{name}/eval")
                    continue
                steps.append({"name": f"{name}/eval", "kind": "eval", "type": "shards", "command": "eval", "dir": d,
                              "count": n_ev, "args": ev["args"][1:], "after": [mask_step]})
                steps.append({"name": f"{name}/merge", "kind": "merge", "type": "merge", "command": "eval", "dir": d,
                              "output": ev["result"], "after": [f"{name}/eval"]})
                merges.append(f"{name}/merge")
    python = os.environ.get("SADI_PYTHON", sys.executable)
    steps.append({"name": "summary", "kind": "summary", "type": "single",
                  "argv": [python, os.path.join(ROOT, "scripts", "eval_suite.py"), "--config", config_copy,
                           "--out-dir", out, "--summary-only"],
                  "output": os.path.join(out, "summary.csv"), "after": merges})
    return steps


# ---- Slurm ---------------------------------------------------------------------------------

def run_tool(argv, check=True):
    try:
        r = subprocess.run(argv, capture_output=True, text=True)
    except FileNotFoundError:
        raise SlurmError(f"{argv[0]}: not found on PATH (is this a Slurm login node?)")
    if check and r.returncode != 0:
        raise SlurmError(f"{' '.join(shlex.quote(a) for a in argv)} failed with exit code {r.returncode}: "
                         f"{r.stderr.strip()}")
    return r


class Scheduler:
    """What Slurm knows of job elements ("A_i" of an array, "A" of a single job): squeue for what
    waits or runs, then sacct, then scontrol (no accounting; finished jobs for MinJobAge)."""

    def __init__(self, required=True):
        self.cache = {}
        self.required = required  # False (--status): without Slurm, states come from the files alone
        self.error = None

    def known(self, refs):
        refs = [r for r in refs if r and r not in self.cache]
        if not refs or self.error:
            return self.cache
        try:
            r = run_tool(["squeue", "-h", "-r", "-u", getpass.getuser(), "-o", "%i|%T|%r"])
        except SlurmError as e:
            if self.required:
                raise
            self.error = str(e)
            return self.cache
        for line in r.stdout.splitlines():
            jid, state, reason = (line.split("|") + ["", ""])[:3]
            self.cache[jid.strip()] = {"state": state.strip(), "reason": reason.strip(), "exit_code": ""}
        rest = sorted({x.split("_")[0] for x in refs if x not in self.cache})
        if rest:
            self._finished(rest)
        return self.cache

    def _finished(self, job_ids):
        r = run_tool(["sacct", "-n", "-P", "-X", "-j", ",".join(job_ids), "-o", "JobID,State,ExitCode"], check=False)
        if r.returncode == 0:
            for line in r.stdout.splitlines():
                jid, state, code = (line.split("|") + ["", ""])[:3]
                self.cache.setdefault(jid, {"state": state.split()[0] if state else "", "reason": "",
                                            "exit_code": code})
            return
        for jid in job_ids:  # no accounting storage: the controller's memory of finished jobs
            r = run_tool(["scontrol", "-o", "show", "job", jid], check=False)
            for line in r.stdout.splitlines():
                f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
                ref = f"{f['ArrayJobId']}_{f['ArrayTaskId']}" if f.get("ArrayTaskId") else f.get("JobId", "")
                self.cache.setdefault(ref, {"state": f.get("JobState", ""), "reason": f.get("Reason", ""),
                                            "exit_code": f.get("ExitCode", "")})

    def submit(self, argv):
        return run_tool(argv).stdout.strip().split(";")[0]  # --parsable: "JOBID[;CLUSTER]"

    def cancel(self, refs):
        if refs:
            run_tool(["scancel", *refs])
            for ref in refs:
                self.cache[ref] = {"state": "CANCELLED", "reason": "by eval_suite --resume", "exit_code": ""}


# ---- files of a submitted suite ------------------------------------------------------------

def slurm_dir(out):
    return os.path.join(out, "slurm")


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise SlurmError(f"{path}: cannot read {what}: {e.strerror}")
    except json.JSONDecodeError as e:
        raise SlurmError(f"{path}:{e.lineno}: not valid JSON: {e.msg}")


def load_submissions(out):
    path = os.path.join(slurm_dir(out), "jobs.json")
    return load_json(path, "the submissions")["submissions"] if os.path.exists(path) else []


def save_json(path, value):
    convert_task.write_text_atomic(path, json.dumps(value, indent=1) + "\n")


def elements(step):
    return list(range(1, step["count"] + 1)) if step["type"] == "shards" else [0]


def element_output(step, e):
    if step["type"] == "shards":
        return os.path.join(step["dir"], f"shard-{e}.{'json' if step['command'] == 'eval' else 'h5'}")
    return step["output"]


def output_state(path):
    """"done", "partial" (an interrupted eval's result, with rows done / total) or "missing"."""
    if not os.path.exists(path):
        return "missing", None
    if path.endswith(".json"):
        try:
            with open(path, encoding="utf-8") as f:
                r = json.load(f)
        except (OSError, json.JSONDecodeError):
            return "missing", None
        if r.get("partial"):
            test = r.get("resume", {}).get("test", {})
            return "partial", f"{test.get('rows_done', '?')}/{test.get('rows_total', '?')} test rows"
    return "done", None


def latest_jobs(subs):
    """(step, element) -> the job element ref of its latest submission."""
    last = {}
    for s in subs:
        for e in s["elements"]:
            last[(s["step"], e)] = f"{s['job_id']}_{e}" if e else s["job_id"]
    return last


def log_path(out, step, ref):
    safe = step["name"].replace("/", ".")
    jid, _, e = ref.partition("_")
    return os.path.join(slurm_dir(out), "logs", f"{safe}-{jid}_{e}.log" if e else f"{safe}-{jid}.log")


def log_tail(path, n=3):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [line.rstrip("\n") for line in f.readlines()[-n:]]
    except OSError:
        return []


def element_status(out, step, e, last, known, sched):
    out_state, partial = output_state(element_output(step, e))
    ref = last.get((step["name"], e))
    st = {"element": e, "job": ref, "state": "done", "detail": ""}
    if out_state == "done":
        return st
    if partial:
        st["partial"] = partial
    if ref is None:
        st.update(state="not-submitted")
        return st
    k = known.get(ref)
    st["log"] = log_path(out, step, ref)
    if k and k["state"] in ACTIVE and k["reason"] != "DependencyNeverSatisfied":
        st.update(state="running" if k["state"] in ("RUNNING", "COMPLETING") else "pending", detail=k["reason"])
        return st
    if k is None and sched.error:
        st.update(state="unknown", detail="Slurm not reachable from here")
        return st
    if k:
        detail = k["state"] + (f" exit {k['exit_code']}" if k["exit_code"] else "") + \
            (f" ({k['reason']})" if k["reason"] not in ("", "None") else "")
        if k["state"] == "COMPLETED":
            detail = "COMPLETED but its output is missing"
    else:
        detail = "no longer known to Slurm, and no output"
    st.update(state="failed", detail=detail, log_tail=log_tail(st["log"]))
    return st


def suite_status(out, plan, subs, sched):
    last = latest_jobs(subs)
    known = sched.known(list(last.values()))
    steps = []
    for step in plan["steps"]:
        steps.append({"name": step["name"], "elements": [element_status(out, step, e, last, known, sched)
                                                         for e in elements(step)]})
    return steps


# ---- commands ------------------------------------------------------------------------------

def array_spec(indices):
    """[1, 2, 3, 7] -> "1-3,7"."""
    runs = []
    for i in sorted(indices):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(f"{a}-{b}" if b > a else str(a) for a, b in runs)


def sbatch_argv(out, sadi, step, todo, deps, opts):
    safe = step["name"].replace("/", ".")
    logs = os.path.join(slurm_dir(out), "logs")
    argv = ["sbatch", "--parsable", f"--job-name=sadi:{step['name']}", "--kill-on-invalid-dep=yes",
            f"--chdir={os.getcwd()}", f"--export=ALL,SADI_BIN={sadi},SADI_SHARDS={step.get('count', 1)}",
            *sbatch_resources(opts, step["kind"])]
    if deps:
        argv.append("--dependency=afterok:" + ":".join(deps))
    if step["type"] == "shards":
        argv += [f"--array={array_spec(todo)}", f"--output={logs}/{safe}-%A_%a.log",
                 os.path.join(ROOT, "scripts", "slurm", "shard.sbatch"), step["command"], step["dir"], "--",
                 *step["args"]]
    elif step["type"] == "merge":
        argv += [f"--output={logs}/{safe}-%j.log", os.path.join(ROOT, "scripts", "slurm", "merge.sbatch"),
                 step["command"], step["dir"], step["output"]]
    else:
        cmd = "exec " + " ".join(shlex.quote(a) for a in step["argv"])
        if step.get("resume"):
            cmd = f'if [ -f {shlex.quote(step["output"])} ]; then set -- --resume; fi; {cmd} "$@"'
        argv += [f"--output={logs}/{safe}-%j.log", "--wrap", cmd]
    return argv


def submit_steps(out, plan, subs, sched, opts, dry_run):
    """Submits every element that is neither done nor on its way; returns the new submissions."""
    status = {s["name"]: s["elements"] for s in suite_status(out, plan, subs, sched)}
    waits_on = {}  # step -> job refs its dependents must wait for
    redone = set()  # steps with elements submitted now
    new = []
    for step in plan["steps"]:
        todo, keep, stale = [], [], []
        upstream_redone = any(a in redone for a in step["after"])
        for st in status[step["name"]]:
            if st["state"] == "done":
                continue
            if st["state"] in ("pending", "running") and not upstream_redone:
                keep.append(st["job"])
                continue
            if st["job"] and st["state"] in ("pending", "running", "failed"):
                stale.append(st["job"])  # waits on jobs that failed, or (failed) may still be in the queue
            todo.append(st["element"])
        deps = [ref for a in step["after"] for ref in waits_on.get(a, [])]
        waits_on[step["name"]] = keep
        if not todo:
            continue
        argv = sbatch_argv(out, plan["sadi"], step, todo, deps, opts)
        print("+ " + " ".join(shlex.quote(a) for a in argv), file=sys.stderr)
        redone.add(step["name"])
        if dry_run:
            waits_on[step["name"]] = keep + [f"DRYRUN-{len(new)}"]
            new.append({"step": step["name"], "job_id": f"DRYRUN-{len(new)}", "elements": todo})
            continue
        sched.cancel([r for r in stale if sched.cache.get(r, {}).get("state") in ACTIVE])
        jid = sched.submit(argv)
        waits_on[step["name"]] = keep + [jid]
        sub = {"step": step["name"], "job_id": jid, "elements": todo,
               "submitted": datetime.datetime.now().isoformat(timespec="seconds"), "sbatch": argv}
        subs.append(sub)
        new.append(sub)
        save_json(os.path.join(slurm_dir(out), "jobs.json"), {"submissions": subs})
    return new


def submit(args, suite):
    """eval_suite.py --slurm [--resume]; `suite` is the eval_suite module (load_suite,
    prepare_all, task_commands)."""
    out = os.path.abspath(args.out_dir)
    sd = slurm_dir(out)
    plan_path = os.path.join(sd, "plan.json")
    if os.path.exists(plan_path):
        if not args.resume:
            raise SlurmError(f"{plan_path}: this out dir already has a submitted suite: see --status, or --resume "
                             "to submit again what failed or is missing")
        plan = load_json(plan_path, "the suite's plan")
        if args.config:
            check_same_config(args, suite.load_suite, plan)
        print(f"eval_suite: resuming the suite submitted from {plan['config']}", file=sys.stderr)
        opts = resume_options(plan, args, plan_path)
    else:
        if not args.config:
            raise SlurmError("--config is required for a first submission")
        cfg = suite.load_suite(args.config, args.model)
        opts = slurm_options(cfg, args, args.config)
        suite.prepare_all(cfg, out)
        os.makedirs(os.path.join(sd, "logs"), exist_ok=True)
        config_copy = os.path.join(sd, "suite.json")
        save_json(config_copy, cfg)
        log = lambda m: print(f"eval_suite: {m}", file=sys.stderr)  # noqa: E731
        plan = {"format_version": PLAN_VERSION, "config": os.path.abspath(args.config), "config_copy": config_copy,
                "cwd": os.getcwd(),
                "sadi": os.path.abspath(args.sadi), "slurm": opts,
                "steps": build_plan(cfg, opts, out, os.path.abspath(args.sadi), config_copy,
                                    suite.task_commands, log)}
        if not args.dry_run:
            save_json(plan_path, plan)
    if os.getcwd() != plan["cwd"]:
        os.chdir(plan["cwd"])  # the plan's relative paths (model dirs, raw files) are relative to it
    subs = load_submissions(out)
    new = submit_steps(out, plan, subs, Scheduler(), opts, args.dry_run)
    n = sum(len(s["elements"]) for s in new)
    verb = "would submit" if args.dry_run else "submitted"
    print(f"eval_suite: {verb} {len(new)} jobs ({n} elements); eval_suite.py --out-dir {args.out_dir} --status",
          file=sys.stderr)
    return 0


def resume_options(plan, args, where):
    """The saved requests with the flags given now on top (a longer --time for elements that hit
    their limit); the shard counts are the plan's and cannot change."""
    saved = load_json(plan["config_copy"], "the config the suite was submitted with")
    opts = slurm_options({**saved, "slurm": plan["slurm"]}, args, where)
    for k in ("shards", "identify_shards"):
        if opts[k] != plan["slurm"][k]:
            raise SlurmError(f"--{k.replace('_', '-')}: expected {plan['slurm'][k]}, the count the suite was submitted "
                             f"with (its shards are on disk), found {opts[k]}")
    return opts


def check_same_config(args, load_suite, plan):
    cfg = load_suite(args.config, args.model)
    saved = load_json(plan["config_copy"], "the config the suite was submitted with")
    for k in sorted(set(cfg) | set(saved)):
        if json.dumps(cfg.get(k), sort_keys=True) != json.dumps(saved.get(k), sort_keys=True):
            raise SlurmError(f"{args.config}: key '{k}': expected the value the suite in {args.out_dir} was submitted "
                             f"with ({plan['config_copy']}), found another: resume without --config, or "
                             "use a new --out-dir")


def gather(out):
    """(overall state, counts, steps, Slurm's error or None) of the suite in `out`."""
    plan = load_json(os.path.join(slurm_dir(out), "plan.json"), "the suite's plan (was it submitted with --slurm?)")
    sched = Scheduler(required=False)
    steps = suite_status(out, plan, load_submissions(out), sched)
    states = [e["state"] for s in steps for e in s["elements"]]
    counts = {k: states.count(k) for k in ("done", "running", "pending", "failed", "not-submitted", "unknown")}
    overall = ("complete" if counts["done"] == len(states) else "unknown" if counts["unknown"] else
               "running" if counts["running"] or counts["pending"] else "failed")
    return overall, counts, steps, sched.error


def summary_line(out_dir, overall, counts):
    return f"{out_dir}: {overall}: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v) + \
        f" of {sum(counts.values())} job elements"


def status(args):
    """eval_suite.py --status [--wait]: one line per step, the reason and log of every failed
    element. --wait: polls until nothing is pending or running; exit 0 complete, 1 failed."""
    out = os.path.abspath(args.out_dir)
    overall, counts, steps, error = gather(out)
    last = None
    while args.wait and overall == "running":
        line = summary_line(args.out_dir, overall, counts)
        if line != last:
            print(f"eval_suite: {datetime.datetime.now():%H:%M:%S} {line}", file=sys.stderr)
            last = line
        time.sleep(args.poll)
        overall, counts, steps, error = gather(out)
    if error:
        if args.wait:
            raise SlurmError(f"{error}: --wait needs Slurm")
        print(f"eval_suite: {error}: the states below come from the files alone", file=sys.stderr)
    code = (0 if overall == "complete" else 1) if args.wait else 0
    if args.json:
        print(json.dumps({"out_dir": args.out_dir, "state": overall, "counts": counts, "steps": steps,
                          "slurm_error": error}, indent=1))
        return code
    print(summary_line(args.out_dir, overall, counts))
    print(f"{'step':40} {'done':>7}  state")
    for s in steps:
        el = s["elements"]
        done = sum(e["state"] == "done" for e in el)
        worst = next((k for k in ("failed", "not-submitted", "unknown", "running", "pending") if any(e["state"] == k for e in el)),
                     "done")
        print(f"{s['name']:40} {done:>3}/{len(el):<3}  {worst}")
        for e in el:
            if e["state"] in ("failed", "not-submitted") or e.get("partial"):
                what = f"element {e['element']}" if e["element"] else "job"
                extra = f"; partial result kept ({e['partial']})" if e.get("partial") else ""
                print(f"    {what}: {e['state']} {e['detail']}{extra}" + (f" [{e['job']}]" if e["job"] else ""))
                if e.get("log"):
                    print(f"      log {e['log']}")
                for line in e.get("log_tail", []):
                    print(f"      | {line}")
    if overall == "failed":
        print(f"resubmit what failed: eval_suite.py --out-dir {args.out_dir} --slurm --resume")
    return code
