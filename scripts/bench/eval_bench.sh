#!/usr/bin/env bash
# Benchmark (not a test): examples/s for the reference code's head grid (6 K values x 16
# strengths, plus the unsteered point) run as one batched sweep vs one grid point at a time.
# Usage: scripts/bench/eval_bench.sh [--device cpu|cuda] [--preset small|llama-3.2-1b] [--items N]
#        [--no-one-by-one]   (the batched sweep only)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
device=cpu preset=small n=16 one_by_one=1
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --preset) preset=$2; shift 2 ;;
    --items) n=$2; shift 2 ;;
    --no-one-by-one) one_by_one=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
py=${SADI_PYTHON:-$root/.venv/bin/python}
sadi=${SADI_BIN:-${BUILD_DIR:-$root/build}/apps/sadi}
work=${BENCH_DIR:-$root/out/bench}/$preset
[ -f "$work/mask-b16.h5" ] || "$root/scripts/bench/identify_bench.sh" --device "$device" --preset "$preset" --pairs 32 >/dev/null
head -n "$n" "$root/tests/data/task_small.jsonl" > "$work/task.jsonl"
ks=1,2,4,6,8,10
# the reference grid s = 5..80 step 5 is delta = s - 1
deltas=$("$py" -c "print(','.join(str(s - 1) for s in range(5, 85, 5)))")
common=(--model "$work/model" --task "$work/task.jsonl" --mask "$work/mask-b16.h5" --site head --metric exact-match
        --device "$device" --timing)
seconds() { "$py" -c "import json; print(sum(p['test']['seconds'] for p in json.load(open('$1'))['points']))"; }
"$sadi" eval "${common[@]}" --top-k "$ks" --delta "$deltas" --batch-size 64 --out "$work/sweep.json" --log-level warn >/dev/null
batched=$(seconds "$work/sweep.json")
points=$("$py" -c "import json; print(len(json.load(open('$work/sweep.json'))['points']))")
one=0
if [ "$one_by_one" = 0 ]; then
  "$py" -c "n, p, s = $n, $points, $batched; print(f'eval benchmark: preset $preset, {n} items, {p} configurations, exact-match, device $device'); print(f'batched sweep (batch 64 rows): {n * p / s:8.1f} examples/s  ({n * p} item-points in {s:.2f} s)')"
  exit 0
fi
for k in ${ks//,/ }; do
  for d in ${deltas//,/ }; do
    "$sadi" eval "${common[@]}" --top-k "$k" --delta "$d" --batch-size 1 --out "$work/one.json" --log-level warn >/dev/null
    # each run scores its point and the unsteered one: count the steered point's share only
    s=$("$py" -c "import json; print(json.load(open('$work/one.json'))['points'][1]['test']['seconds'])")
    one=$("$py" -c "print($one + $s)")
  done
done
"$py" - <<PY
n, points, batched, one = $n, $points, $batched, $one
steered = points - 1
print(f"eval benchmark: preset $preset, {n} items, head grid 6 K x 16 deltas (+ unsteered), exact-match, device $device")
print(f"batched sweep (batch 64 rows): {n * points / batched:8.1f} examples/s  ({n * points} item-points in {batched:.2f} s)")
print(f"one point at a time (batch 1): {n * steered / one:8.1f} examples/s  ({n * steered} item-points in {one:.2f} s)")
print(f"speed-up: {(n * points / batched) / (n * steered / one):.1f}x")
PY
