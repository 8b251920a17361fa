#!/usr/bin/env bash
# The README's first command: installs, builds, and runs the main job on the bundled trained
# model (models/tiny-sentiment, docs/tiny-model.md): export it, identify the elements that
# separate right from wrong answers on the shipped pairs, inspect the mask, evaluate SADI
# against no steering and the fixed, random and CAA baselines (K and delta chosen on dev,
# reported on test), generate with and without steering, and print a summary table.
# Usage: scripts/demo.sh [OUT_DIR]   (default: out/demo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/out/demo}
py=${SADI_PYTHON:-/usr/bin/python3}
data="$root/tests/data/tiny"
if [ "${SADI_SKIP_DEPS:-0}" != 1 ]; then "$root/scripts/install_deps.sh"; fi
"$root/scripts/build.sh" >&2
sadi="${BUILD_DIR:-$root/build}/apps/sadi"
mkdir -p "$out"
echo "== check and export the bundled trained checkpoint (parity checked) ==" >&2
(cd "$root/models/tiny-sentiment" && sha256sum --quiet -c SHA256SUMS)
"$py" "$root/scripts/export_hf.py" --hf-dir "$root/models/tiny-sentiment" --out "$out/model" --force
echo "== sadi info ==" >&2
"$sadi" info --check "$out/model"
echo "== sadi identify (150 contrastive pairs: tests/data/tiny/pairs.jsonl) ==" >&2
"$sadi" identify --model "$out/model" --pairs "$data/pairs.jsonl" --out "$out/mask.h5" --top-k 8 --batch-size 16
echo "== sadi inspect ==" >&2
"$sadi" inspect "$out/mask.h5" --site head --top 5
"$py" "$root/scripts/plot_mask.py" "$out/mask.h5" --out "$out/mask.png"
echo "== sadi eval: SADI-head grid vs none, fixed, random, caa; selected on dev, reported on test ==" >&2
"$sadi" eval --model "$out/model" --task "$data/test.jsonl" --dev "$data/dev.jsonl" --mask "$out/mask.h5" \
  --site head --top-k 1,2,4,8 --delta 2,4,9,19 --baselines none,fixed,random,caa --out "$out/results.json"
"$py" "$root/scripts/plot_sweep.py" "$out/results.json" --out "$out/sweep.png"
echo "== sadi generate, without and with steering (the selected K and delta) ==" >&2
read -r k delta < <("$py" -c 'import json,sys; s=json.load(open(sys.argv[1]))["selected"]["sadi"]; print(s["top_k"], s["delta"])' "$out/results.json")
"$py" "$root/scripts/demo_summary.py" prompts "$data/test.jsonl" --out "$out/prompts.jsonl"
"$sadi" generate --model "$out/model" --input "$out/prompts.jsonl" --max-new-tokens 4 --stop $'\n' \
  --out "$out/unsteered.jsonl" --log-level warn
"$sadi" generate --model "$out/model" --input "$out/prompts.jsonl" --max-new-tokens 4 --stop $'\n' \
  --mask "$out/mask.h5" --site head --top-k "$k" --delta "$delta" --out "$out/steered.jsonl" --log-level warn
echo "== summary ==" >&2
"$py" "$root/scripts/demo_summary.py" table "$out/results.json" "$data/test.jsonl" "$out/unsteered.jsonl" \
  "$out/steered.jsonl"
echo "demo: outputs in $out (mask.h5, mask.png, results.json, sweep.png, unsteered.jsonl, steered.jsonl)" >&2
