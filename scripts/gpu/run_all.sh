#!/usr/bin/env bash
# The GPU in one shot (docs/gpu.md): on a fresh GPU machine (../shared/gpu.md) checks the
# environment, builds only sadi (Release, every core, tests off), makes the test models and the
# random Llama-3.2-1B-shape checkpoint (bfloat16, in the background), then runs each stage under
# its own timeout, logging to OUT_DIR/<stage>.log and recording it in OUT_DIR/summary.json; a
# failing stage never stops the others. The exit status is 1 when a stage failed.
#
# Usage: scripts/gpu/run_all.sh OUT_DIR [--device cuda|cpu] [--quick] [--sadi BIN] [--testdata DIR]
#   --device cpu --quick: the CTest entry (gpu.run_all_cpu): everything but the CUDA-only lines,
#   on the CPU build and its test models, small sizes; parity is then CPU batch-invariant vs
#   padded batches (two code paths) instead of CPU vs CUDA.
# Stages: env, deps, build, models, parity, export_parity, bench_generate, bench_identify,
# bench_eval, bench_hf, launches (a stage that cannot run here exits 77 and is "skipped" with
# its reason).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: scripts/gpu/run_all.sh OUT_DIR [--device cuda|cpu] [--quick] [--sadi BIN] [--testdata DIR]" >&2; exit 2; }
out=$(mkdir -p "$1" && cd "$1" && pwd); shift
device=cuda quick=0 sadi="" data=""
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --sadi) sadi=$2; shift 2 ;;
    --testdata) data=$2; shift 2 ;;
    *) echo "run_all.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# The Python with torch: SADI_PYTHON, else the repository's .venv (scripts/install_deps.sh, the CPU
# machines and CI), else python3 on PATH (the GPU machine's venv with torch 2.11).
py=${SADI_PYTHON:-}
if [ -z "$py" ]; then
  for c in "$root/.venv/bin/python" python3; do
    if "$c" -c 'import torch' 2>/dev/null; then py=$c; break; fi
  done
fi
[ -n "$py" ] || { echo "run_all.sh: no Python with torch (set SADI_PYTHON or run scripts/install_deps.sh)" >&2; exit 2; }
export SADI_PYTHON=$py BENCH_DIR="$out/bench"
summary="$out/summary.json"
echo '{"stages": []}' > "$summary"
failed=0
t_start=$(date +%s)

# stage NAME SECONDS CMD...: runs CMD with its output in NAME.log; rc 77 = skipped (the log's
# last line says why).
stage() {
  local name=$1 limit=$2; shift 2
  local t0 rc status
  t0=$(date +%s.%N)
  echo "== $name (limit ${limit}s)" >&2
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.log" 2>&1
  rc=$?
  case $rc in
    0) status=ok ;;
    77) status=skipped ;;
    124|137) status=timeout; failed=$((failed + 1)) ;;
    *) status=failed; failed=$((failed + 1)) ;;
  esac
  "$py" "$root/scripts/gpu/summary.py" "$summary" "$name" "$status" "$rc" "$t0" "$out/$name.log"
  echo "   $name: $status" >&2
}

bin() { echo "${sadi:-$root/build-gpu/apps/sadi}"; }
[ -n "$data" ] || data="$root/build-gpu/testdata"
preset=llama-3.2-1b
[ "$quick" = 1 ] && preset=small

stage env 60 bash "$root/scripts/gpu/env_check.sh" "$device" "$py" "$out/env.json"
if [ "$device" = cuda ]; then
  stage deps 120 bash "$root/scripts/gpu/unpack_debs.sh" "$root/build-gpu/deps"
  [ -f "$root/build-gpu/deps/env.sh" ] && . "$root/build-gpu/deps/env.sh"
else
  stage deps 10 bash -c 'echo "skipped: the CPU build has its Debian packages (scripts/install_deps.sh)"; exit 77'
fi
# The benchmark checkpoint is Python only: made while sadi builds.
if [ "$quick" = 0 ]; then
  (mkdir -p "$BENCH_DIR/$preset" && "$py" "$root/scripts/make_tiny_model.py" --out "$BENCH_DIR/$preset/hf" --seed 1 \
     --preset llama-3.2-1b --dtype bfloat16 && "$py" "$root/scripts/export_hf.py" --hf-dir "$BENCH_DIR/$preset/hf" \
     --out "$BENCH_DIR/$preset/model" --device "$device") > "$out/bench_model.log" 2>&1 &
  model_pid=$!
fi
if [ -n "$sadi" ]; then
  stage build 10 bash -c "echo 'skipped: using the given binary $sadi'; exit 77"
else
  stage build 420 bash "$root/scripts/gpu/build.sh" "$root/build-gpu" "$py"
fi
export SADI_BIN
SADI_BIN=$(bin)
if [ -f "$data/.complete" ]; then
  stage models 10 bash -c "echo 'skipped: test models present in $data'; exit 77"
else
  stage models 300 bash "$root/tests/fixtures/make_fixtures.sh" "$data" "$py"
fi
stage parity 240 "$py" "$root/scripts/gpu/parity.py" --sadi "$SADI_BIN" --testdata "$data" --device "$device" \
  --out "$out/parity.json"
if [ "$quick" = 1 ]; then
  stage export_parity 10 bash -c 'echo "skipped: --quick (the exporter tests cover it on the CPU)"; exit 77'
else
  stage export_parity 180 bash "$root/scripts/parity_table.sh" --device "$device"
fi
[ -n "${model_pid:-}" ] && { wait "$model_pid" || echo "the benchmark model failed: see bench_model.log" >&2; }
small=()
[ "$quick" = 1 ] && small=(--prompts 2 --new-tokens 8 --repeat 1)
stage bench_generate 240 bash "$root/scripts/bench/generate_bench.sh" --device "$device" --preset "$preset" "${small[@]}"
stage bench_identify 120 bash "$root/scripts/bench/identify_bench.sh" --device "$device" --preset "$preset" \
  $([ "$quick" = 1 ] && echo "--pairs 8")
stage bench_eval 240 bash "$root/scripts/bench/eval_bench.sh" --device "$device" --preset "$preset" \
  --items "$([ "$quick" = 1 ] && echo 2 || echo 16)" $([ "$quick" = 1 ] && echo "--no-one-by-one")
stage bench_hf 240 "$py" "$root/scripts/bench/hf_bench.py" --model "$BENCH_DIR/$preset" --device "$device" \
  $([ "$quick" = 1 ] && echo "--prompts 2 --new-tokens 8")
stage launches 120 bash "$root/scripts/gpu/launches.sh" "$SADI_BIN" "$BENCH_DIR/$preset/model" "$device"
"$py" "$root/scripts/gpu/summary.py" "$summary" --total "$(( $(date +%s) - t_start ))"
echo "run_all: $failed stage(s) failed; $summary" >&2
[ "$failed" = 0 ]
