#!/usr/bin/env bash
# Benchmark (not a test): sadi generate prompt and decode tokens/s without steering, with
# prompt-last steering, every-token steering, clamp mode and CAA, at batch 1 and 16, and the
# decode overhead ratios, in one run. Thread settings: sadi's default --threads (every core), no
# thread variables.
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
caa=(--mask "$work/mask-b16.h5" --method caa --delta 4)
run() {  # batch, extra args... -> "prompt decode": the best prompt and decode tokens/s over $repeat runs
  local bp=0 bd=0 p d
  for _ in $(seq "$repeat"); do
    read -r p d < <(run_once "$@")
    bp=$("$py" -c "print(max($bp, $p))")
    bd=$("$py" -c "print(max($bd, $d))")
  done
  echo "$bp $bd"
}
run_once() {
  local b=$1; shift
  "$sadi" generate --model "$work/model" --input "$prompts" --out "$work/gen.jsonl" --max-new-tokens "$new" \
    --ignore-eos --batch-size "$b" --device "$device" --timing-json "$work/timing.json" --log-level warn "$@"
  "$py" -c "import json; t = json.load(open('$work/timing.json')); print(t['prefill']['tokens_per_s'], t['decode']['tokens_per_s'])"
}
echo "generate benchmark: preset $preset, $n prompts (~45 tokens), $new new tokens each, greedy, device $device, best of $repeat; $(date -u +%F)"
echo "tokens/s, prompt (prefill) / decode; steering: SADI head K=8 delta 9 live at the last prompt token (prompt-last)"
echo "or on every token (every-token), clamp (prompt-last), CAA (multiplier 4, the middle layer, every token);"
echo "none (module): unsteered with --native-decode false (the TorchScript module decodes)"
printf '%-6s %16s %16s %16s %16s %16s %16s   %s\n' batch none prompt-last every-token clamp caa "none (module)" \
  "decode time steered / none"
for b in 1 16; do
  read -r np nd < <(run "$b")
  read -r lp ld < <(run "$b" "${steer[@]}")
  read -r ap ad < <(run "$b" "${steer[@]}" --steer-positions all)
  read -r cp cd < <(run "$b" "${steer[@]}" --mode clamp)
  read -r kp kd < <(run "$b" "${caa[@]}")
  read -r mp md < <(run "$b" --native-decode false)
  ratios=$("$py" -c "print(' '.join(f'{k} {$nd / v:.3f}' for k, v in (('prompt-last', $ld), ('every-token', $ad), ('clamp', $cd), ('caa', $kd))))")
  cell() { printf '%7.1f / %6.1f' "$1" "$2"; }
  printf '%-6s %16s %16s %16s %16s %16s %16s   %s\n' "$b" "$(cell "$np" "$nd")" "$(cell "$lp" "$ld")" "$(cell "$ap" "$ad")" \
    "$(cell "$cp" "$cd")" "$(cell "$kp" "$kd")" "$(cell "$mp" "$md")" "$ratios"
done
