#!/usr/bin/env bash
# Benchmark (not a test): decode tokens/s of sadi generate under the thread variables users set
# (none, OMP_NUM_THREADS=cores, OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, MKL_NUM_THREADS=1; and
# --threads 1 for comparison), batch 1, one 250-token
# prompt, 128 new tokens, greedy, on an 8-layer d=512 random Llama (32M parameters, float32).
# With OLD_SADI=path/to/an/older/sadi the same rows run that binary too, in the same run.
# Usage: scripts/bench/threads_bench.sh [--repeat R]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
repeat=2
[ "${1:-}" = --repeat ] && repeat=$2
py=${SADI_PYTHON:-$root/.venv/bin/python}
sadi=${SADI_BIN:-${BUILD_DIR:-$root/build}/apps/sadi}
work=${BENCH_DIR:-$root/out/bench}/threads
mkdir -p "$work"
if [ ! -f "$work/model/manifest.json" ]; then
  "$py" "$root/scripts/make_tiny_model.py" --out "$work/hf" --seed 1 --layers 8 --d-model 512 --heads 8 \
    --kv-heads 4 --d-ffn 1408 --vocab-size 8192 --max-positions 1024 >/dev/null
  "$py" "$root/scripts/export_hf.py" --hf-dir "$work/hf" --out "$work/model" >/dev/null
fi
"$py" -c "import json; print(json.dumps({'id': 'p', 'prompt': ' '.join(['the movie was good and'] * 50)}))" >"$work/p.jsonl"
rate() {  # binary, env... (or --threads=N) -> best generate tokens/s of $repeat runs (prefill included)
  local bin=$1 best=0 r flags=()
  shift
  if [ "${1:-}" = --threads=1 ]; then flags=(--threads 1); shift; fi
  for _ in $(seq "$repeat"); do
    r=$(env "$@" "$bin" generate "${flags[@]}" --model "$work/model" --input "$work/p.jsonl" --max-new-tokens 128 --ignore-eos \
        --out "$work/g.jsonl" 2>&1 | grep 'tokens for' | grep -o '[0-9.]* tokens/s' | cut -d' ' -f1)
    best=$("$py" -c "print(max($best, ${r:-0}))")
  done
  echo "$best"
}
cores=$(nproc)
echo "threads benchmark: $(nproc) cores, batch 1, 250-token prompt + 128 new tokens, best of $repeat; tokens/s"
printf '%-34s %10s %10s\n' "environment" "sadi" "${OLD_SADI:+old sadi}"
for e in "" "OMP_NUM_THREADS=$cores" "OMP_NUM_THREADS=1" "OPENBLAS_NUM_THREADS=1" "MKL_NUM_THREADS=1" "--threads=1"; do
  new=$(rate "$sadi" $e)
  old=""
  [ -n "${OLD_SADI:-}" ] && old=$(rate "$OLD_SADI" $e)
  printf '%-34s %10s %10s\n' "${e:-(none)}" "$new" "$old"
done
