#!/usr/bin/env bash
# Benchmark (not a test): the reference code's head grid (6 K values x 16 strengths + the
# unsteered point = 97 configurations) with an older sadi binary and this one, in one run, on
# the demo model (models/tiny-topic, exported) and the random "35m" Llama (8 layers, d 512,
# 8/4 heads, FFN 1408, vocab 8192; scripts/make_tiny_model.py seed 1). For each model and
# metric (exact-match, choice) it runs, alternating: the old binary, this binary with
# --prefix-sharing false (whole rows), and this binary as is (prefix sharing); prints wall
# seconds and the scoring loop's seconds (--timing), examples/s (items x configurations / s) and
# the speed-up over the old binary of each, and
# checks that every configuration's accuracy agrees and how far log-likelihoods moved.
#
# Build the old binary from an earlier commit in a worktree, e.g.
#   git worktree add /tmp/old 54d4722 && cmake -S /tmp/old -B /tmp/old/build -G Ninja \
#     -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build /tmp/old/build --target sadi
# Usage: scripts/bench/prefix_bench.sh --old-bin PATH [--items N] [--models demo,35m]
#        [--metrics exact-match,choice] [--batch-size B] [--batch-invariant true|false]
# Threads: --threads 2 for every run (OpenBLAS 2, LibTorch intra-op 1); nothing else running.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
old="" n=32 models=demo,35m metrics=exact-match,choice batch=64 invariant=true
while [ $# -gt 0 ]; do
  case $1 in
    --old-bin) old=$2; shift 2 ;;
    --items) n=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --metrics) metrics=$2; shift 2 ;;
    --batch-size) batch=$2; shift 2 ;;
    --batch-invariant) invariant=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$old" ] || { echo "prefix_bench.sh: --old-bin PATH (an older sadi binary) is required" >&2; exit 2; }
py=${SADI_PYTHON:-$root/.venv/bin/python}
sadi=${SADI_BIN:-${BUILD_DIR:-$root/build}/apps/sadi}
work=${BENCH_DIR:-$root/out/bench}/prefix
mkdir -p "$work"
ks=1,2,4,6,8,10
deltas=$("$py" -c "print(','.join(str(s - 1) for s in range(5, 85, 5)))")  # reference s = 5..80 step 5

model_dir() {  # prints the exported model directory of $1, making it if needed
  case $1 in
    demo)
      [ -f "$work/demo/model/model.ts" ] || "$py" "$root/scripts/export_hf.py" --hf-dir "$root/models/tiny-topic" \
        --out "$work/demo/model" --force >/dev/null
      echo "$work/demo/model" ;;
    35m)
      if [ ! -f "$work/35m/model/model.ts" ]; then
        "$py" "$root/scripts/make_tiny_model.py" --out "$work/35m/hf" --seed 1 --max-positions 1024 --layers 8 \
          --d-model 512 --heads 8 --kv-heads 4 --d-ffn 1408 --vocab-size 8192 >/dev/null
        "$py" "$root/scripts/export_hf.py" --hf-dir "$work/35m/hf" --out "$work/35m/model" >/dev/null
      fi
      echo "$work/35m/model" ;;
    *) echo "unknown model $1" >&2; exit 2 ;;
  esac
}

now() { date +%s.%N; }
echo "prefix_bench: $(date -u +%F), $(nproc) cores, --threads 2, $n items, 97 configurations, batch $batch," \
     "batch-invariant $invariant; old: $("$old" --version | head -1); new: $("$sadi" --version | head -1)"
echo "wall: the whole command (start, model load, planning, scoring); loop: the scoring loop alone (--timing)"
printf '%-6s %-12s %-28s %8s %10s %7s %8s %10s %7s\n' model metric run wall-s ex/s vs-old loop-s ex/s vs-old
for m in ${models//,/ }; do
  dir=$(model_dir "$m")
  head -n "$n" "$root/tests/data/topic/test.jsonl" > "$work/$m-task.jsonl"
  [ -f "$work/$m-mask.h5" ] || "$sadi" identify --model "$dir" --pairs "$root/tests/data/topic/pairs.jsonl" \
    --out "$work/$m-mask.h5" --top-k 10 --threads 2 --log-level warn
  for metric in ${metrics//,/ }; do
    common=(eval --model "$dir" --task "$work/$m-task.jsonl" --mask "$work/$m-mask.h5" --site head --top-k "$ks"
            --delta "$deltas" --metric "$metric" --batch-size "$batch" --batch-invariant="$invariant" --threads 2
            --timing --log-level warn)
    declare -A secs=()
    for run in old whole shared; do
      case $run in
        old) cmd=("$old" "${common[@]}" --out "$work/$m-$metric-old.json") ;;
        whole) cmd=("$sadi" "${common[@]}" --prefix-sharing false --out "$work/$m-$metric-whole.json") ;;
        shared) cmd=("$sadi" "${common[@]}" --out "$work/$m-$metric-shared.json") ;;
      esac
      t0=$(now)
      "${cmd[@]}" >/dev/null
      secs[$run]=$("$py" -c "print(round($(now) - $t0, 2))")
    done
    for run in old whole shared; do
      "$py" - "$m" "$metric" "$run" "${secs[$run]}" "${secs[old]}" "$n" "$work/$m-$metric-$run.json" \
        "$work/$m-$metric-old.json" <<'PY'
import json, sys
m, metric, run, s, s_old, n, res, res_old = sys.argv[1:9]
label = {"old": "old binary", "whole": "new, --prefix-sharing false", "shared": "new, prefix sharing"}[run]
loop = lambda p: sum(q["test"]["seconds"] for q in json.load(open(p))["points"])  # --timing: the scoring loop
rate, rate_loop = int(n) * 97 / float(s), int(n) * 97 / loop(res)
print(f"{m:<6} {metric:<12} {label:<28} {float(s):8.2f} {rate:10.1f} {float(s_old) / float(s):6.1f}x"
      f" {loop(res):8.2f} {rate_loop:10.1f} {loop(res_old) / loop(res):6.1f}x")
PY
    done
    "$py" - "$work/$m-$metric-old.json" "$work/$m-$metric-shared.json" "$work/$m-$metric-whole.json" <<'PY'
import json, sys
old, shared, whole = (json.load(open(p)) for p in sys.argv[1:4])
def acc(r): return [p["test"]["accuracy"] for p in r["points"]]
def worst(a, b):
    d = 0.0
    for pa, pb in zip(a["points"], b["points"]):
        for la, lb in zip(pa["test"].get("loglik", []), pb["test"].get("loglik", [])):
            d = max([d] + [abs(x - y) for x, y in zip(la, lb)])
    return d
same = sum(x == y for x, y in zip(acc(old), acc(shared)))
print(f"       accuracies equal to the old binary's: {same}/{len(acc(old))} configurations (shared), "
      f"{sum(x == y for x, y in zip(acc(old), acc(whole)))}/{len(acc(old))} (whole)"
      + (f"; max |loglik diff| vs old: shared {worst(old, shared):.2g}, whole {worst(old, whole):.2g}"
         if "loglik" in old["points"][0]["test"] else ""))
PY
  done
done
