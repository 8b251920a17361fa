#!/usr/bin/env bash
# Benchmark (not a test): sadi generate tokens/s without steering, with prompt-last steering,
# every-token steering and clamp mode, at batch 1 and 16, and the overhead ratios, in one run.
# Usage: scripts/bench/generate_bench.sh [--device cpu|cuda] [--preset small|smollm2|llama-3.2-1b]
#        [--prompts N] [--new-tokens N] [--repeat R]
# Each configuration runs R times (default 3) and the best rate is reported: this machine's
# run-to-run noise is large (seen: 395 to 595 tokens/s for the same unsteered run).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
device=cpu preset=small n=16 new=64 repeat=3
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --preset) preset=$2; shift 2 ;;
    --prompts) n=$2; shift 2 ;;
    --new-tokens) new=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
py=${SADI_PYTHON:-$root/.venv/bin/python}
sadi=${SADI_BIN:-${BUILD_DIR:-$root/build}/apps/sadi}
work=${BENCH_DIR:-$root/out/bench}/$preset
# The identify benchmark makes the model and a mask.
[ -f "$work/mask-b16.h5" ] || "$root/scripts/bench/identify_bench.sh" --device "$device" --preset "$preset" --pairs 32 >/dev/null
prompts="$work/prompts.jsonl"
"$py" -c "
import itertools, json
lines = [json.loads(l)['prompt'] for l in open('$root/tests/data/pairs_small.jsonl')]
with open('$prompts', 'w') as f:
    for i, p in enumerate(itertools.islice(itertools.cycle(lines), $n)):
        f.write(json.dumps({'id': i, 'prompt': p}) + '\n')"
steer=(--mask "$work/mask-b16.h5" --site head --top-k 8 --delta 9)
run() {  # batch, extra args... -> best tokens/s over $repeat runs
  local best=0 rate
  for _ in $(seq "$repeat"); do
    rate=$(run_once "$@")
    best=$("$py" -c "print(max($best, $rate))")
  done
  echo "$best"
}
run_once() {
  local b=$1; shift
  "$sadi" generate --model "$work/model" --input "$prompts" --out "$work/gen.jsonl" --max-new-tokens "$new" \
    --ignore-eos --batch-size "$b" --device "$device" "$@" 2>&1 | grep "tokens for" | sed -E 's/.* ([0-9.]+) tokens\/s.*/\1/'
}
echo "generate benchmark: preset $preset, $n prompts (~45 tokens), $new new tokens each, greedy, device $device, best of $repeat"
printf '%-6s %12s %12s %12s %12s   %s\n' batch none prompt-last every-token clamp "overhead (steered / none time)"
for b in 1 16; do
  none=$(run "$b")
  last=$(run "$b" "${steer[@]}")
  all=$(run "$b" "${steer[@]}" --steer-positions all)
  clamp=$(run "$b" "${steer[@]}" --mode clamp)
  ratios=$("$py" -c "print(' '.join(f'{k} {float($none)/float(v):.3f}' for k, v in (('prompt-last', $last), ('every-token', $all), ('clamp', $clamp))))")
  printf '%-6s %12s %12s %12s %12s   %s\n' "$b" "$none" "$last" "$all" "$clamp" "$ratios"
done
