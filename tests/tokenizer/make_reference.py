"""Writes the tokenizer tests' reference: Hugging Face's own tokenizer (PyPI `tokenizers`, Rust)
on real vocabularies, the ids and decoded text of every string of corpus.jsonl and of llama.cpp's
tokenizer test strings.

The real vocabularies are llama.cpp's test vocabularies (`models/ggml-vocab-NAME.gguf` in
llama-cpp-python's source distribution, fetched by scripts/fetch_assets.sh): Llama 2's
sentencepiece BPE (llama-spm), Llama 3's byte-level BPE (llama-bpe), Qwen2's (qwen2) and GPT-2's
(gpt-2). transformers turns each GGUF into a tokenizer.json; for Llama 3 its converter leaves out
the pre-tokenizer GGUF names (`tokenizer.ggml.pre = llama-bpe`), so the Llama 3 split and
`ignore_merges` are set here. Each converted tokenizer.json must give llama.cpp's own ids (`.gguf.out`) on llama.cpp's
strings (`.gguf.inp`) before it is used: a conversion that differs from llama.cpp stops here.

Usage: make_reference.py OUT_DIR LLAMA_CPP_DIR [NAME=TOKENIZER.json ...]
Writes OUT_DIR/NAME.tokenizer.json and OUT_DIR/NAME.json ({tokenizer, cases: [{text, ids, decoded}]}).
"""
import json
import os
import sys

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tokenizers import Regex, Tokenizer, pre_tokenizers  # noqa: E402

# name in the tests -> llama.cpp vocabulary
VOCABS = {"tokenizer-llama2": "llama-spm", "tokenizer-llama3": "llama-bpe",
          "tokenizer-qwen2": "qwen2", "tokenizer-gpt2": "gpt-2"}
# name in the tests -> llama.cpp vocabulary whose tokenizer.json sadi's own GGUF importer writes
# (scripts/sadi_gguf/tokenizer.py): StarCoder's pre-tokenizer is SmolLM's (Digits, then GPT-2's split)
IMPORTED = {"tokenizer-starcoder": "starcoder"}
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SMOLLM2 = os.path.join(ROOT, "third_party", "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
# llama.cpp's LLAMA_VOCAB_PRE_TYPE_LLAMA3 split (src/llama-vocab.cpp), Llama 3's tokenizer.json
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SEP = "\n__ggml_vocab_test__\n"


def fail(msg):
    print(f"make_reference.py: {msg}", file=sys.stderr)
    sys.exit(1)


def convert(models_dir, vocab):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(models_dir, gguf_file=f"ggml-vocab-{vocab}.gguf")
    backend = tok.backend_tokenizer
    if vocab == "llama-bpe":
        backend.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    spec = json.loads(backend.to_str())
    if vocab == "llama-bpe":
        spec["model"]["ignore_merges"] = True  # Llama 3's tokenizer.json: a word in the vocabulary is one token
    return Tokenizer.from_str(json.dumps(spec))


def imported(gguf_path):
    """tokenizer.json as scripts/import_gguf.py writes it for this GGUF file."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from sadi_gguf.reader import GgufFile
    from sadi_gguf.tokenizer import tokenizer_json
    return Tokenizer.from_str(json.dumps(tokenizer_json(GgufFile(gguf_path))))


def llamacpp_cases(models_dir, vocab):
    base = os.path.join(models_dir, f"ggml-vocab-{vocab}.gguf")
    with open(base + ".inp", encoding="utf-8") as f:
        texts = f.read().split(SEP)
    with open(base + ".out", encoding="utf-8") as f:
        outs = f.read().split("\n")
    if texts and texts[-1].endswith("\n__ggml_vocab_test__"):
        texts[-1] = texts[-1][: -len("\n__ggml_vocab_test__")]
    if len(outs) < len(texts):
        fail(f"{base}.out: {len(outs)} lines for {len(texts)} strings of {base}.inp")
    return [(t, [int(x) for x in o.split()]) for t, o in zip(texts, outs)]


def check_against_llamacpp(name, tok, cases, source):
    for i, (text, want) in enumerate(cases):
        got = tok.encode(text, add_special_tokens=False).ids
        if got != want:
            fail(f"{name}: {source}: string {i} {text[:40]!r}: llama.cpp gives {want[:12]}, "
                 f"the converted tokenizer.json {got[:12]}")


def reference(tok, texts):
    out = []
    for text in texts:
        ids = tok.encode(text, add_special_tokens=False).ids
        out.append({"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=True)})
    return out


def main():
    if len(sys.argv) < 3:
        fail("usage: make_reference.py OUT_DIR LLAMA_CPP_DIR [NAME=TOKENIZER.json ...]")
    out_dir, llamacpp = sys.argv[1], sys.argv[2]
    models_dir = os.path.join(llamacpp, "models")
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "corpus.jsonl"), encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    os.makedirs(out_dir, exist_ok=True)
    jobs = [(name, vocab, None) for name, vocab in VOCABS.items()]
    jobs += [(name, vocab, "import") for name, vocab in IMPORTED.items()]
    if os.path.isfile(SMOLLM2):  # fetched by scripts/fetch_assets.sh; without it the C++ test skips
        jobs.append(("tokenizer-smollm2", None, "import:" + SMOLLM2))
    jobs += [(e.split("=", 1)[0], None, e.split("=", 1)[1]) for e in sys.argv[3:]]
    for name, vocab, path in jobs:
        texts = list(corpus)
        if path and path.startswith("import"):
            gguf = path[len("import:"):] if ":" in path else os.path.join(models_dir, f"ggml-vocab-{vocab}.gguf")
            tok = imported(gguf)
            if vocab:
                cases = llamacpp_cases(models_dir, vocab)
                check_against_llamacpp(name, tok, cases, f"ggml-vocab-{vocab}.gguf.inp/.out")
                texts += [t for t, _ in cases]
        elif vocab:
            tok = convert(models_dir, vocab)
            cases = llamacpp_cases(models_dir, vocab)
            check_against_llamacpp(name, tok, cases, f"ggml-vocab-{vocab}.gguf.inp/.out")
            texts += [t for t, _ in cases]
        else:
            tok = Tokenizer.from_file(path)
        tok_file = f"{name}.tokenizer.json"
        tok.save(os.path.join(out_dir, tok_file))
        # reload what was written: the reference is of the file the C++ test reads
        tok = Tokenizer.from_file(os.path.join(out_dir, tok_file))
        with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump({"tokenizer": tok_file, "cases": reference(tok, texts)}, f, ensure_ascii=False)
        print(f"make_reference.py: {name}: {len(texts)} strings"
              + (f" (llama.cpp's ids matched on {len(texts) - len(corpus)})" if vocab else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
