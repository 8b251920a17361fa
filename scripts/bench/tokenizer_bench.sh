#!/usr/bin/env bash
# Benchmark (not a test): tokens/s of sadi's C++ tokenizer.json reader vs Hugging Face's own
# (PyPI `tokenizers`, Rust, in .venv) on the same text and the same real tokenizer.json files
# (llama.cpp's Llama 2, Llama 3, Qwen2 vocabularies; tests/tokenizer/make_reference.py), in one
# run. Text: tests/tokenizer/corpus.jsonl and 5000 seeded sentences of words drawn from it and
# from tests/data/tiny_corpus.txt (about 0.5 MB), tokenized R times (default 1: no warm caches).
# Usage: scripts/bench/tokenizer_bench.sh [--repeat R]   (uses build/tokref)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
repeat=1
while [ $# -gt 0 ]; do
  case $1 in
    --repeat) repeat=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
py=${SADI_PYTHON:-$root/.venv/bin/python}
sadi=${SADI_BIN:-${BUILD_DIR:-$root/build}/apps/sadi}
ref=${BUILD_DIR:-$root/build}/tokref
[ -f "$ref/reference/tokenizer-llama3.json" ] || "$root/tests/tokenizer/make_reference.sh" "$ref" "$py" >&2
text="$ref/bench.jsonl"
"$py" -c "
import json, random
lines = [json.loads(l) for l in open('$root/tests/tokenizer/corpus.jsonl', encoding='utf-8') if l.strip()]
words = ' '.join(lines + [l for l in open('$root/tests/data/tiny_corpus.txt', encoding='utf-8')]).split()
rng = random.Random(0)
lines += [' '.join(rng.choice(words) for _ in range(rng.randint(5, 40))) + rng.choice(['.', '!', '?', '\n', ''])
          for _ in range(5000)]
with open('$text', 'w', encoding='utf-8') as f:
    for s in lines:
        if s: f.write(json.dumps(s, ensure_ascii=False) + '\n')
"
cat > "$ref/bench.py" <<'PY'
import json, sys, time
from tokenizers import Tokenizer
file, text_path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
texts = [json.loads(l) for l in open(text_path, encoding="utf-8") if l.strip()]
tk = Tokenizer.from_file(file)
for mode in ("one by one", "encode_batch"):
    tokens = 0
    t0 = time.perf_counter()
    for _ in range(repeat):
        if mode == "encode_batch":
            tokens += sum(len(e.ids) for e in tk.encode_batch(texts, add_special_tokens=False))
        else:
            tokens += sum(len(tk.encode(t, add_special_tokens=False).ids) for t in texts)
    s = time.perf_counter() - t0
    print(f"PyPI tokenizers ({mode}): {tokens} tokens in {s:.3f} s: {round(tokens / s)} tokens/s")
PY
echo "tokenizer benchmark: $(wc -l < "$text") strings x $repeat, $(nproc) cores, $(date -u +%F); tokenizers $("$py" -c 'import tokenizers; print(tokenizers.__version__)') (RAYON_NUM_THREADS unset: its own pool for encode_batch)"
for name in tokenizer-llama2 tokenizer-llama3 tokenizer-qwen2; do
  file="$ref/reference/$name.tokenizer.json"
  echo "== $name"
  "$sadi" tokenize "$file" --input "$text" --jsonl --bench "$repeat" --log-level warn 2>&1 | sed 's/^/sadi (C++, one by one, 1 thread): /'
  "$py" "$ref/bench.py" "$file" "$text" "$repeat"
done
