#!/usr/bin/env bash
# The paper's Table 4 ablation on any exported model and task, in one command: SADI against
# random identification (K random elements, over --random-seeds draws) and fixed steering (the
# input-independent edit: fixed = the mean of SADI's own edit over the dev items, fixed-dir =
# Delta ⊙ M at SADI's mean edit norm, fixed-raw = delta * (Delta ⊙ M), the paper's wording),
# every row's K and delta chosen on dev and reported on test (docs/baselines.md).
# Usage: scripts/ablation.sh MODEL_DIR PAIRS.jsonl TEST.jsonl DEV.jsonl OUT_DIR [extra sadi eval flags...]
#   e.g. scripts/ablation.sh out/demo/model tests/data/topic/{pairs,test,dev}.jsonl out/ablation --site head
# Environment: SADI (the binary; default build/apps/sadi), SADI_PYTHON (default .venv/bin/python),
# TOP_K (default 1,2,4,8), DELTA (default 4,9,19), SEEDS (default 20), BOOTSTRAP (default 200).
set -euo pipefail
if [ $# -lt 5 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
model=$1 pairs=$2 test=$3 dev=$4 out=$5
shift 5
sadi=${SADI:-${BUILD_DIR:-$root/build}/apps/sadi}
py=${SADI_PYTHON:-$root/.venv/bin/python}
mkdir -p "$out"
"$sadi" identify --model "$model" --pairs "$pairs" --out "$out/mask.h5" --top-k 8 --bootstrap "${BOOTSTRAP:-200}"
"$sadi" inspect "$out/mask.h5" --json > "$out/mask.json"
"$sadi" eval --model "$model" --task "$test" --dev "$dev" --mask "$out/mask.h5" --top-k "${TOP_K:-1,2,4,8}" \
  --delta "${DELTA:-4,9,19}" --baselines none,random,fixed,fixed-dir,fixed-raw --random-seeds "${SEEDS:-20}" \
  --out "$out/results.json" "$@" > "$out/table.txt"
"$py" "$root/scripts/demo_summary.py" table "$out/results.json" --mask-json "$out/mask.json"
