#!/usr/bin/env bash
# Benchmark (not a test): where a batch-1 decode step's matrix-vector products stand against this
# machine's memory. For an exported model's shapes (every weight read once per token): LibTorch's
# kernels (scripts/bench/gemv/gemv_torch.py) and a plain AVX2 + OpenMP kernel
# (scripts/bench/gemv/gemv_native.cpp, built here with g++ -O3 -march=native), at 1 and 2 threads,
# next to the read bandwidth of scripts/bench/bandwidth.py. No thread environment variables.
# Usage: scripts/bench/gemv_bench.sh MODEL_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${SADI_PYTHON:-$root/.venv/bin/python}
model=${1:?usage: gemv_bench.sh MODEL_DIR}
work=${BENCH_DIR:-$root/out/bench}/gemv
mkdir -p "$work"
unset OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS
g++ -O3 -march=native -fopenmp "$root/scripts/bench/gemv/gemv_native.cpp" -o "$work/gemv_native"
"$py" -c "
import sys; sys.path.insert(0, '$root/scripts/bench/gemv')
from shapes import decode_shapes
print('\n'.join(f'{o} {i}' for o, i in decode_shapes('$model')))" >"$work/shapes.txt"
echo "decode-step matrix-vector products of $model, float32, batch 1; $(nproc) cores; $(date -u +%F)"
"$py" "$root/scripts/bench/bandwidth.py"
"$py" "$root/scripts/bench/gemv/gemv_torch.py" "$model"
"$work/gemv_native" <"$work/shapes.txt"
