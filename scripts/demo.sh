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
echo "== sadi eval: bundled task, dev/test split, 2 x 2 grid and baselines ==" >&2
"$sadi" eval --model "$out/model" --task "$root/tests/data/task_small.jsonl" --dev-fraction 0.5 --metric choice \
  --mask "$out/mask.h5" --site head --top-k 1,2 --delta 4,19 --baselines none,fixed,random --out "$out/results.json"
"$py" "$root/scripts/plot_sweep.py" "$out/results.json" --out "$out/sweep.png"
echo "== sadi generate, without and with steering ==" >&2
printf 'unsteered: '
"$sadi" generate --model "$out/model" --prompt "The movie was" --max-new-tokens 12 --log-level warn
printf 'steered:   '
"$sadi" generate --model "$out/model" --prompt "The movie was" --max-new-tokens 12 --log-level warn \
  --mask "$out/mask.h5" --site head --top-k 2 --delta 19
echo "demo: model $out/model, mask $out/mask.h5 ($out/mask.png), results $out/results.json ($out/sweep.png)" >&2
echo "demo: the bundled model has random weights, so the text is noise and accuracies sit near chance;" >&2
echo "      a small trained model with a behaviour to steer is issue 6." >&2
