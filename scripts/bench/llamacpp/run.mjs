// llama.cpp through node-llama-cpp's prebuilt CPU library: greedy decoding of given token ids.
// Usage: node run.mjs MODEL.gguf IDS_JSON N_NEW THREADS [REPEAT]
// IDS_JSON: a JSON list of prompt token ids (BOS included, exactly as sadi tokenizes them).
// Prints one JSON line per repeat: {"ids": [...generated], "prompt_tokens", "prompt_ms", "decode_tokens",
// "decode_ms", "threads"}; prompt_ms: the prompt's evaluation and the first token's choice,
// decode_ms: the remaining N_NEW - 1 tokens (each one evaluation and a greedy choice). End-of-generation
// tokens are yielded and decoding goes on (as sadi generate --ignore-eos).
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {readFileSync} from "node:fs";

const [modelPath, idsPath, nNewArg, threadsArg, repeatArg] = process.argv.slice(2);
const prompt = JSON.parse(readFileSync(idsPath, "utf8"));
const nNew = Number(nNewArg), threads = Number(threadsArg), repeat = Number(repeatArg ?? 1);

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
for (let r = 0; r < repeat; ++r) {
  const context = await model.createContext({contextSize: prompt.length + nNew + 8, batchSize: Math.max(prompt.length, 32),
                                             threads, sequences: 1});
  const sequence = context.getSequence();
  const ids = [];
  const t0 = performance.now();
  let t1 = 0;
  for await (const token of sequence.evaluate(prompt, {temperature: 0, yieldEogToken: true})) {
    if (ids.length === 0) t1 = performance.now();
    ids.push(token);
    if (ids.length >= nNew) break;
  }
  const t2 = performance.now();
  console.log(JSON.stringify({ids, prompt_tokens: prompt.length, prompt_ms: t1 - t0, decode_tokens: ids.length - 1,
                              decode_ms: t2 - t1, threads}));
  await context.dispose();
}
await model.dispose();
