#!/usr/bin/env bash
# Benchmark (not a test): the real-model job's eval sweep against one unsteered eval of the same
# test items, wall time, in the CPU default mode (--batch-invariant auto: true; every core for
# exports that carry invariant_at_any_threads, one LibTorch thread for older ones: docs/determinism.md),
# without layer sharing in that mode, and with --batch-invariant false (padded batches, every core), in one run.
# The sweep is the demo's: the head site's K x delta grid with fixed, fixed-dir, ITI and CAA, then
# the neuron and hidden sites' grids with fixed (scripts/demo_grids.sh), each over the dev and
# the test split; the unsteered eval scores the test split only (no mask, no dev).
# Needs the demo's outputs: scripts/demo.sh OUT first. Usage: scripts/bench/real_eval_bench.sh [OUT]
# Thread settings: sadi's default --threads (every core), no thread variables.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/out/demo}
py=${SADI_PYTHON:-$root/.venv/bin/python}
sadi=${SADI_BIN:-${BUILD_DIR:-$root/build}/apps/sadi}
m=$out/data/movie
for f in "$out/model/manifest.json" "$out/mask.h5" "$m/test.jsonl" "$m/dev.jsonl"; do
  [ -f "$f" ] || { echo "real_eval_bench.sh: $f missing: run scripts/demo.sh $out first" >&2; exit 2; }
done
work=${BENCH_DIR:-$root/out/bench}/real-eval
mkdir -p "$work"
unset OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS
. "$root/scripts/demo_grids.sh"
seconds() {  # command... -> wall seconds on stdout (its own output discarded)
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  "$py" -c "print(f'{$t1 - $t0:.1f}')"
}
echo "eval sweep on the real model (SmolLM2-135M-Instruct, $out), $(wc -l <"$m/test.jsonl") test + $(wc -l <"$m/dev.jsonl") dev items; $(nproc) cores; $(date -u +%F)"
# Rows: the default mode; the default mode without layer sharing (every configuration runs every
# layer: docs/eval.md, "Layer sharing"); padded batches. The sweep's results must not depend on
# layer sharing in the default mode (checked below: the same correct flags in every point).
printf '%-28s %12s %10s %10s %10s %10s %8s\n' mode unsteered head neuron hidden sweep ratio
for mode in auto auto-no-layer-sharing false; do
  common=(--model "$out/model" --task "$m/test.jsonl" --batch-invariant "${mode%%-*}" --log-level warn "${sep[@]}")
  steer=(--mask "$out/mask.h5" --dev "$m/dev.jsonl")
  [ "$mode" = auto-no-layer-sharing ] && steer+=(--layer-sharing false)
  u=$(seconds "$sadi" eval "${common[@]}" --out "$work/unsteered-$mode.json")
  h=$(seconds "$sadi" eval "${common[@]}" "${steer[@]}" --site head "${grid_head[@]}" "${baselines_head[@]}" \
      --out "$work/head-$mode.json")
  n=$(seconds "$sadi" eval "${common[@]}" "${steer[@]}" --site neuron "${grid_neuron[@]}" "${baselines_site[@]}" \
      --out "$work/neuron-$mode.json")
  d=$(seconds "$sadi" eval "${common[@]}" "${steer[@]}" --site hidden "${grid_hidden[@]}" "${baselines_site[@]}" \
      --out "$work/hidden-$mode.json")
  "$py" -c "u, h, n, d = $u, $h, $n, $d; s = h + n + d; print(f'{\"$mode\":28s} {u:12.1f} {h:10.1f} {n:10.1f} {d:10.1f} {s:10.1f} {s / u:8.1f}')"
done
"$py" - "$work" <<'PY'
import json, sys
work = sys.argv[1]
for site in ("head", "neuron", "hidden"):
    a = json.load(open(f"{work}/{site}-auto.json"))["points"]
    b = json.load(open(f"{work}/{site}-auto-no-layer-sharing.json"))["points"]
    same = all(pa.get(s) == pb.get(s) for pa, pb in zip(a, b) for s in ("test", "dev")) and len(a) == len(b)
    print(f"{site}: {len(a)} points, results with and without layer sharing {'identical' if same else 'DIFFER'}")
PY
