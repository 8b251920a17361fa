#!/usr/bin/env bash
# The README's first command: installs, builds, makes the bundled tiny model and runs the main
# job on it: export a seeded Llama-architecture checkpoint, inspect it, identify the elements
# that separate right from wrong answers on the bundled pairs, and show the mask.
# Usage: scripts/demo.sh [OUT_DIR]   (default: out/demo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/out/demo}
py=${SADI_PYTHON:-/usr/bin/python3}
if [ "${SADI_SKIP_DEPS:-0}" != 1 ]; then "$root/scripts/install_deps.sh"; fi
"$root/scripts/build.sh" >&2
sadi="${BUILD_DIR:-$root/build}/apps/sadi"
mkdir -p "$out"
echo "== make a seeded tiny Llama checkpoint (HF format) ==" >&2
"$py" "$root/scripts/make_tiny_model.py" --out "$out/hf" --seed 0
echo "== export it to a sadi model directory (parity checked) ==" >&2
"$py" "$root/scripts/export_hf.py" --hf-dir "$out/hf" --out "$out/model" --force
echo "== sadi info ==" >&2
"$sadi" info --check "$out/model"
echo "== sadi identify (bundled pairs: tests/data/pairs_small.jsonl) ==" >&2
"$sadi" identify --model "$out/model" --pairs "$root/tests/data/pairs_small.jsonl" --out "$out/mask.h5" \
  --top-k 4 --batch-size 16
echo "== sadi inspect ==" >&2
"$sadi" inspect "$out/mask.h5" --site head --top 5
"$py" "$root/scripts/plot_mask.py" "$out/mask.h5" --out "$out/mask.png"
echo "demo: model in $out/model, mask in $out/mask.h5, plot in $out/mask.png" >&2
