#!/usr/bin/env bash
# The README's first command: installs, builds, makes the bundled tiny model and runs the main
# job on it. Today the pipeline stage that exists is the model runtime: export a seeded
# Llama-architecture checkpoint, inspect it and run it through the C++ runtime.
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
