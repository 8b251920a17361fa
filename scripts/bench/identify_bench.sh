#!/usr/bin/env bash
# Benchmark (not a test): sadi identify pairs/s at batch 1 and 16 on one model, batch-invariant
# (the CPU default) and not.
# Usage: scripts/bench/identify_bench.sh [--device cpu|cuda] [--preset small|smollm2|llama-3.2-1b] [--pairs N]
# small: 8 layers, d=256, 8 heads (4 kv), FFN 688, float32 (CPU-sized); smollm2: the real
# SmolLM2-135M-Instruct in float32 (scripts/bench/smollm2_model.sh); llama-3.2-1b: the 1B shape
# in bfloat16 (GPU).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
device=cpu preset=small n=96
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --preset) preset=$2; shift 2 ;;
    --pairs) n=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
py=${SADI_PYTHON:-$root/.venv/bin/python}
sadi=${SADI_BIN:-${BUILD_DIR:-$root/build}/apps/sadi}
work=${BENCH_DIR:-$root/out/bench}/$preset
mkdir -p "$work"
if [ "$preset" = smollm2 ]; then
  "$root/scripts/bench/smollm2_model.sh" "$work"
elif [ ! -f "$work/model/manifest.json" ]; then
  if [ "$preset" = small ]; then
    "$py" "$root/scripts/make_tiny_model.py" --out "$work/hf" --seed 0 --layers 8 --d-model 256 --heads 8 \
      --kv-heads 4 --d-ffn 688 --max-positions 512 >&2
    "$py" "$root/scripts/export_hf.py" --hf-dir "$work/hf" --out "$work/model" --force >&2
  else
    "$py" "$root/scripts/make_tiny_model.py" --out "$work/hf" --seed 0 --preset llama-3.2-1b --dtype bfloat16 \
      --max-positions 2048 >&2
    "$py" "$root/scripts/export_hf.py" --hf-dir "$work/hf" --out "$work/model" --force >&2
  fi
fi
pairs="$work/pairs.jsonl"
"$py" -c "
import itertools, sys
lines = open('$root/tests/data/pairs_small.jsonl').read().splitlines()
open('$pairs', 'w').write('\n'.join(itertools.islice(itertools.cycle(lines), $n)) + '\n')"
echo "identify benchmark: preset $preset, $n pairs (sequences of ~45 tokens), device $device, all four sites"
for mode in true false; do  # true: one LibTorch thread on the CPU (docs/determinism.md)
  for b in 1 16; do
    line=$("$sadi" identify --model "$work/model" --pairs "$pairs" --out "$work/mask-b$b.h5" --batch-size "$b" \
           --device "$device" --batch-invariant "$mode" 2>&1 | grep "pairs used")
    rate=$(echo "$line" | sed -E 's/.* ([0-9.]+) pairs\/s.*/\1/')
    echo "batch-invariant $mode, batch $b: $rate pairs/s"
  done
done
