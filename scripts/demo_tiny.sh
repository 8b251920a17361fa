#!/usr/bin/env bash
# The offline job (scripts/demo.sh --tiny; the README's first command before issue 28): installs, builds, and runs the main job on the bundled trained
# model (models/tiny-topic, docs/tiny-model.md): export it, identify the elements that separate
# right from wrong answers on the shipped pairs (with ITI's probes and 200 bootstrap resamples
# for the mask's stability), inspect the mask, evaluate SADI against no steering, the matched
# fixed-vector controls, ITI, CAA and random elements over 20 seeds (every method's settings
# chosen on dev, reported on test), generate with and without steering, and print one table.
# Usage: scripts/demo_tiny.sh [OUT_DIR] or scripts/demo.sh --tiny [OUT_DIR]   (default: out/demo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/out/demo}
py=${SADI_PYTHON:-$root/.venv/bin/python}
data="$root/tests/data/topic"
hf="$root/models/tiny-topic"
if [ "${SADI_SKIP_DEPS:-0}" != 1 ]; then "$root/scripts/install_deps.sh"; fi
BUILD_TARGETS=sadi "$root/scripts/build.sh" >&2
sadi="${BUILD_DIR:-$root/build}/apps/sadi"
mkdir -p "$out"
echo "== check and export the bundled trained checkpoint (parity checked) ==" >&2
(cd "$hf" && sha256sum --quiet -c SHA256SUMS)
"$py" "$root/scripts/export_hf.py" --hf-dir "$hf" --out "$out/model" --force
echo "== sadi info ==" >&2
"$sadi" info --check "$out/model"
echo "== sadi identify (150 contrastive pairs: tests/data/topic/pairs.jsonl; 200 bootstrap resamples) ==" >&2
"$sadi" identify --model "$out/model" --pairs "$data/pairs.jsonl" --out "$out/mask.h5" --top-k 8 --batch-size 16 \
  --sites head,residual --bootstrap 200
echo "== sadi inspect ==" >&2
"$sadi" inspect "$out/mask.h5" --site head --top 5
"$sadi" inspect "$out/mask.h5" --site head --json > "$out/mask.json"
"$py" "$root/scripts/plot_mask.py" "$out/mask.h5" --out "$out/mask.png"
echo "== sadi eval: SADI-head grid vs none, fixed, fixed-dir, fixed-raw, ITI, CAA, random x 20 seeds (a few minutes) ==" >&2
"$sadi" eval --model "$out/model" --task "$data/test.jsonl" --dev "$data/dev.jsonl" --mask "$out/mask.h5" \
  --site head --top-k 1,2,4,8 --delta 4,9,19 --baselines none,fixed,fixed-dir,fixed-raw,iti,caa,random \
  --random-seeds 20 --caa-multipliers 1,4,16,64 --iti-alpha 1,5,15,50 --out "$out/results.json" > "$out/table.txt"
"$py" "$root/scripts/plot_sweep.py" "$out/results.json" --out "$out/sweep.png"
echo "== sadi generate, without and with steering (the selected K and delta) ==" >&2
read -r k delta < <("$py" -c 'import json,sys; s=json.load(open(sys.argv[1]))["selected"]["sadi"]; print(s["top_k"], s["delta"])' "$out/results.json")
"$py" "$root/scripts/demo_summary.py" prompts "$data/test.jsonl" --out "$out/prompts.jsonl"
"$sadi" generate --model "$out/model" --input "$out/prompts.jsonl" --max-new-tokens 4 --stop $'\n' \
  --out "$out/unsteered.jsonl" --log-level warn
"$sadi" generate --model "$out/model" --input "$out/prompts.jsonl" --max-new-tokens 4 --stop $'\n' \
  --mask "$out/mask.h5" --site head --top-k "$k" --delta "$delta" --out "$out/steered.jsonl" --log-level warn
echo "== summary ==" >&2
"$py" "$root/scripts/demo_summary.py" table "$out/results.json" --mask-json "$out/mask.json" \
  --examples "$data/test.jsonl" "$out/unsteered.jsonl" "$out/steered.jsonl"
echo "demo: outputs in $out (mask.h5, mask.png, results.json, table.txt, sweep.png, unsteered.jsonl, steered.jsonl)" >&2
