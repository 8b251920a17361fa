#!/usr/bin/env bash
# Benchmark (not a test): tokens/s of sadi's C++ tokenizer.json reader vs Hugging Face's own
# (npm `tokenizers`, Rust) on the same text and the same published tokenizer.json files, in one
# run. Text: tests/tokenizer/corpus.jsonl and 5000 seeded sentences of words drawn from it and
# from tests/data/tiny_corpus.txt (about 0.5 MB), tokenized R times (default 1: no warm caches).
# Usage: scripts/bench/tokenizer_bench.sh [--repeat R]   (needs node and npm; uses build/tokref)
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
cat > "$ref/bench.js" <<'JS'
const fs = require("fs");
const { Tokenizer } = require("tokenizers");
const [file, textPath, repeat] = process.argv.slice(2);
const texts = fs.readFileSync(textPath, "utf8").split("\n").filter((l) => l.length).map((l) => JSON.parse(l));
const tk = Tokenizer.fromFile(file);
(async () => {
  for (const mode of ["one by one", "encodeBatch"]) {
    let tokens = 0;
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < Number(repeat); r++) {
      if (mode === "encodeBatch") {
        const encs = await tk.encodeBatch(texts, { addSpecialTokens: false });
        for (const e of encs) tokens += e.getIds().length;
      } else {
        for (const t of texts) tokens += (await tk.encode(t, null, { addSpecialTokens: false })).getIds().length;
      }
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`npm tokenizers (${mode}): ${tokens} tokens in ${s.toFixed(3)} s: ${Math.round(tokens / s)} tokens/s`);
  }
})();
JS
echo "tokenizer benchmark: $(wc -l < "$text") strings x $repeat, $(nproc) cores, $(date -u +%F)"
for name in tokenizer-llama2 tokenizer-llama3 tokenizer-qwen3; do
  file="$ref/reference/$name.tokenizer.json"
  echo "== $name"
  "$sadi" tokenize "$file" --input "$text" --jsonl --bench "$repeat" --log-level warn 2>&1 | sed 's/^/sadi (C++, one by one, 1 thread): /'
  (cd "$ref" && node bench.js "$file" "$text" "$repeat")
done
