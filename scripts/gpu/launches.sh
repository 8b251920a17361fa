#!/usr/bin/env bash
# CUDA kernel launches per decoded token (scripts/gpu/run_all.sh's launches stage): sadi generate
# at batch 1 with 8 and with 40 new tokens under Nsight Systems; the difference in
# cudaLaunchKernel calls over the 32 extra tokens. Usage: launches.sh SADI MODEL_DIR DEVICE
# Exit 77 (skipped) on the CPU or where nsys is not installed.
set -uo pipefail
sadi=$1 model=$2 device=$3
[ "$device" = cuda ] || { echo "skipped: kernel launches are counted on CUDA only"; exit 77; }
command -v nsys >/dev/null || { echo "skipped: nsys (Nsight Systems) is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count() {  # new tokens -> cudaLaunchKernel calls
  nsys profile -t cuda -o "$work/p$1" --force-overwrite true "$sadi" generate --model "$model" --device cuda \
    --prompt "The history of the city begins" --max-new-tokens "$1" --ignore-eos --log-level warn >/dev/null 2>&1 || return 1
  nsys stats --report cuda_api_sum --format csv "$work/p$1.nsys-rep" 2>/dev/null |
    awk -F, '/cudaLaunchKernel/ {gsub(/"/, "", $3); s += $3} END {print s + 0}'
}
a=$(count 8) && b=$(count 40) || { echo "nsys failed"; exit 1; }
echo "cudaLaunchKernel calls: $a (8 tokens), $b (40 tokens); per decoded token: $(( (b - a) / 32 ))"
