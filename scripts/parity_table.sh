#!/usr/bin/env bash
# Prints, for every supported architecture, the exporter's parity figures on a seeded tiny
# random checkpoint: against transformers' own implementation where transformers is importable
# (.venv has it; so does the GPU machine), and eager vs scripted vs reloaded vs KV-cache decode
# everywhere. Output: a markdown table on stdout (docs/model-directory.md records it).
# Usage: scripts/parity_table.sh [--device cpu|cuda] [--dtype float32|bfloat16]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
device=cpu dtype=float32
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --dtype) dtype=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
py=${SADI_PYTHON:-$root/.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| architecture | vs transformers | eager vs scripted | scripted vs reloaded | cache decode vs full | tolerance |"
echo "|---|---|---|---|---|---|"
for arch in llama mistral qwen2 qwen3 phi3 gemma gemma2 gpt2 bloom; do
  extra=()
  [ "$arch" = gpt2 ] && extra=(--tokenizer json)
  "$py" "$root/scripts/make_tiny_model.py" --out "$work/$arch-hf" --arch "$arch" --seed 1 --dtype "$dtype" "${extra[@]}" 2>/dev/null
  log=$("$py" "$root/scripts/export_hf.py" --hf-dir "$work/$arch-hf" --out "$work/$arch" --device "$device" 2>&1)
  get() { echo "$log" | sed -n "s/.*parity $1: max |logit diff| = \([^ ]*\) (tolerance \([^)]*\)).*/\1/p" | head -1; }
  tol=$(echo "$log" | sed -n 's/.*(tolerance \([^)]*\)).*/\1/p' | head -1)
  hf=$(get vs_transformers); [ -n "$hf" ] || hf="not run (no transformers)"
  echo "| $arch | $hf | $(get eager_vs_scripted) | $(get scripted_vs_reloaded) | $(get cache_decode_vs_full) | $tol |"
done
