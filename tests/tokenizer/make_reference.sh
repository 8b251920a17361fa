#!/usr/bin/env bash
# Fixture of the tokenizer tests: writes into OUT_DIR/reference the tokenizer.json files and the
# reference ids of Hugging Face's own tokenizer (PyPI `tokenizers`) for llama.cpp's real test
# vocabularies (Llama 2, Llama 3, Qwen2, GPT-2; checked against llama.cpp's own ids), for the
# tokenizer.json sadi's GGUF importer writes for StarCoder's vocabulary and SmolLM2's, and for a
# tokenizer.json of our own (the Llama-3-style one scripts/make_tiny_model.py writes);
# make_reference.py says how. Skipped when its inputs have not changed since the last run.
# Usage: make_reference.sh OUT_DIR PYTHON
set -euo pipefail
mkdir -p "$1"
out=$(cd "$1" && pwd)
py=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
llamacpp=${SADI_LLAMACPP_SRC:-$root/third_party/llama.cpp}
[ -d "$llamacpp/models" ] ||
  { echo "make_reference.sh: $llamacpp/models missing: run scripts/install_deps.sh (scripts/fetch_assets.sh fetches it)" >&2; exit 1; }
smollm2=$root/third_party/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
stamp=$( (cat "$here/make_reference.py" "$here/corpus.jsonl" "$root/scripts/make_tiny_model.py" \
          "$root/scripts/sadi_gguf/tokenizer.py" "$root/scripts/sadi_gguf/reader.py" \
          "$llamacpp"/models/ggml-vocab-{llama-spm,llama-bpe,qwen2,gpt-2,starcoder}.gguf*;
          [ -f "$smollm2" ] && sha256sum "$smollm2") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "make_reference.sh: $out up to date" >&2
  exit 0
fi
rm -rf "$out/tiny-json" "$out/reference" "$out/.stamp"
"$py" "$root/scripts/make_tiny_model.py" --out "$out/tiny-json" --tokenizer json --seed 0 --layers 1
"$py" "$here/make_reference.py" "$out/reference" "$llamacpp" "tiny-json=$out/tiny-json/tokenizer.json"
echo "$stamp" >"$out/.stamp"
