#!/usr/bin/env bash
# End-to-end run of every command on the tokenizer.json models (llama-json, gpt2), which need no
# sentencepiece plugin: the sanitizer build's (scripts/sanitize.sh) end-to-end check, and a
# plain smoke test in the main build. Each step must exit 0 and write what it should.
# Usage: json_models_smoke.sh SADI TESTDATA
set -euo pipefail
sadi=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"id":"a","prompt":"The sky is","positive":" blue","negative":" green"}\n{"id":"b","prompt":"Snow is very","positive":" white","negative":" black"}\n{"id":"c","prompt":"Grass","positive":" green","negative":" red"}\n' >"$tmp/pairs.jsonl"
printf '{"id":"a","prompt":"The sky is","answer":"blue","choices":["blue","green"],"aliases":["Blue"]}\n{"id":"b","prompt":"Snow is very","answer":"white","choices":["white","black"]}\n{"id":"c","prompt":"Grass","answer":"green","choices":["green","red"]}\n{"id":"d","prompt":"Coal is","answer":"black","choices":["black","white"]}\n' >"$tmp/task.jsonl"
step() { echo "== $*" >&2; "$@" >"$tmp/stdout" || { echo "FAIL: $*" >&2; exit 1; }; }
for m in llama-json gpt2; do
  d="$data/$m"
  step "$sadi" info --check "$d"
  step "$sadi" tokenize "$d" --text "The sky is blue, café €" --decode
  step "$sadi" identify --model "$d" --pairs "$tmp/pairs.jsonl" --out "$tmp/$m.h5" --top-k 3 --batch-size 2
  step "$sadi" identify --model "$d" --pairs "$tmp/pairs.jsonl" --out "$tmp/$m-pad.h5" --batch-size 3 --batch-invariant false --position prompt-last
  step "$sadi" inspect "$tmp/$m.h5"
  for metric in exact-match choice generate-em; do
    step "$sadi" eval --model "$d" --task "$tmp/task.jsonl" --dev-fraction 0.5 --mask "$tmp/$m.h5" --top-k 1,2 \
      --delta 2,5 --baselines none,fixed,random,caa --random-seeds 2 --caa-layers 0 --metric "$metric" --max-new-tokens 3 --batch-size 5 --out "$tmp/$m-$metric.json"
  done
  step "$sadi" eval --model "$d" --task "$tmp/task.jsonl" --mask "$tmp/$m.h5" --site neuron --top-k 2 --delta 3 --mode clamp --metric choice --batch-invariant false --out "$tmp/$m-clamp.json"
  for i in 1 2; do
    step "$sadi" eval --model "$d" --task "$tmp/task.jsonl" --mask "$tmp/$m.h5" --top-k 1 --delta 4 --metric choice --shard "$i/2" --out "$tmp/$m-shard$i.json"
  done
  step "$sadi" merge "$tmp/$m-shard1.json" "$tmp/$m-shard2.json" --out "$tmp/$m-merged.json"
  step "$sadi" generate --model "$d" --prompt "The sky is" --max-new-tokens 4 --mask "$tmp/$m.h5" --top-k 2 --delta 3
  step "$sadi" generate --model "$d" --prompt "The sky is" --max-new-tokens 4 --temperature 0.8 --seed 1
done
echo "json_models_smoke: all steps passed" >&2
