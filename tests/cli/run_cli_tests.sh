#!/usr/bin/env bash
# End-to-end tests of the sadi binary: output on stdout, errors on stderr with exit codes.
# Usage: run_cli_tests.sh SADI TESTDATA
set -u
sadi=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/harness.sh"
# The Python with h5py: PYTHON, else SADI_PYTHON, else the repository's .venv (scripts/install_deps.sh).
PYTHON=${PYTHON:-${SADI_PYTHON:-$(cd "$(dirname "$0")/../.." && pwd)/.venv/bin/python}}

expect help 0 "Usage: sadi COMMAND" -- "$sadi" --help
expect version 0 "^sadi [0-9]+\.[0-9]+\.[0-9]+" -- "$sadi" --version
expect no-args 2 "Usage" -- "$sadi"
expect unknown-command 2 "unknown command 'frobnicate'" -- "$sadi" frobnicate
expect info 0 "head +\[3, 4, 16\]" -- "$sadi" info "$data/llama"
expect info-qwen2 0 "qkv yes" -- "$sadi" info "$data/qwen2"
expect info-json 0 '"n_kv_heads": 2' -- "$sadi" info --json "$data/llama"
expect info-check 0 "agrees with manifest.json" -- "$sadi" info --check "$data/llama"
expect info-help 0 "MODEL_DIR" -- "$sadi" info --help
# threads: sadi sets them (the cores it may use), whatever OMP_NUM_THREADS says
expect threads-default 0 "cpu: $(nproc) threads" -- env OMP_NUM_THREADS=7 "$sadi" info "$data/llama" --log-level debug
expect threads-affinity 0 "cpu: 1 threads" -- taskset -c 0 "$sadi" info "$data/llama" --log-level debug
expect threads-flag 0 "cpu: 3 threads" -- "$sadi" info "$data/llama" --log-level debug --threads 3
expect info-missing-arg 2 "missing MODEL_DIR" -- "$sadi" info
expect info-bad-dir 4 "/nonexistent: not found \(expected a model directory" -- "$sadi" info /nonexistent
expect info-bad-flag 2 "Option .*frob.* does not exist" -- "$sadi" info --frob "$data/llama"
expect info-bad-level 2 "log-level" -- "$sadi" info --log-level loud "$data/llama"
expect info-cuda-absent 2 "CUDA" -- bash -c "if $sadi --version | grep -q CUDA; then echo CUDA; exit 2; else $sadi info --check --device cuda $data/llama; fi"
# LibTorch's CUDA libraries come with the plugin libsadi_cuda.so, loaded at start only where an
# NVIDIA device exists (SADI_CUDA_BACKEND=load forces it, off refuses it): here, without a GPU
expect cuda-backend-not-loaded 0 "CUDA backend: not loaded: (no NVIDIA device|this build's LibTorch has no CUDA)" -- bash -c "[ -e /dev/nvidiactl ] && echo 'CUDA backend: not loaded: no NVIDIA device (skipped: this machine has one)' >&2 || \"$sadi\" info --check $data/llama"
expect cuda-backend-forced 0 "CUDA backend: (loaded \\(.*libsadi_cuda.so|not loaded: this build's LibTorch has no CUDA)" -- env SADI_CUDA_BACKEND=load "$sadi" info --check "$data/llama"
expect cuda-backend-forced-no-device 2 "--device cuda: CUDA is not available|only 0 CUDA device|CUDA" -- env SADI_CUDA_BACKEND=load "$sadi" info --check --device cuda "$data/llama"
expect cuda-backend-off 2 "CUDA is not available \\(CUDA backend not loaded: SADI_CUDA_BACKEND=off\\)" -- env SADI_CUDA_BACKEND=off "$sadi" info --check --device cuda "$data/llama"
# stdout carries only the program's output
"$sadi" info --json "$data/llama" 2>/dev/null | "$PYTHON" -c "import json,sys; json.load(sys.stdin)" \
  && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL info-json-parses"; }

# identify / inspect: bad input exits non-zero with a located message and leaves no file
root=$(cd "$(dirname "$0")/../.." && pwd)
pairs="$root/tests/data/pairs_small.jsonl"
m="$data/llama"
printf '{"prompt": "a", "positive": "b", "negative": "c"}\n{"prompt": "a", oops\n' > "$tmp/bad.jsonl"
expect identify-malformed 3 "bad.jsonl:2: malformed JSON" -- "$sadi" identify --model "$m" --pairs "$tmp/bad.jsonl" --out "$tmp/o.h5"
no_output identify-malformed-nofile "$tmp/o.h5"
printf '{"prompt": "a", "positive": "", "negative": "c"}\n' > "$tmp/empty-field.jsonl"
expect identify-empty-field 3 "empty-field.jsonl:1: key 'positive': expected a non-empty string" -- "$sadi" identify --model "$m" --pairs "$tmp/empty-field.jsonl" --out "$tmp/o.h5"
printf '{"prompt": "a", "negative": "c"}\n' > "$tmp/missing.jsonl"
expect identify-missing-field 3 "missing.jsonl:1: key 'positive'" -- "$sadi" identify --model "$m" --pairs "$tmp/missing.jsonl" --out "$tmp/o.h5"
: > "$tmp/empty.jsonl"
expect identify-empty-file 3 "empty.jsonl: no records" -- "$sadi" identify --model "$m" --pairs "$tmp/empty.jsonl" --out "$tmp/o.h5"
expect identify-missing-pairs 4 "nope.jsonl: file not found" -- "$sadi" identify --model "$m" --pairs "$tmp/nope.jsonl" --out "$tmp/o.h5"
expect identify-unknown-site 2 "unknown site 'heads'" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/o.h5" --sites heads
expect identify-unwritable 4 "cannot write" -- "$sadi" identify --model "$m" --pairs "$pairs" --out /nonexistent/dir/o.h5
expect identify-strict 3 "pair 's000' \(line 1\): [0-9]+ tokens exceed the limit of 20 \(strict\)" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/o.h5" --max-length 20 --strict
no_output identify-strict-nofile "$tmp/o.h5"
expect identify-all-too-long 3 "no usable pairs" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/o.h5" --max-length 20
expect identify-skips 0 "48 pairs used, 0 skipped" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/ok.h5" --top-k 3
long=$(printf 'word %.0s' $(seq 80))
printf '{"id": "short", "prompt": "Hi", "positive": "a", "negative": "b"}\n{"id": "long", "prompt": "%s", "positive": "a", "negative": "b"}\n' "$long" > "$tmp/mixed.jsonl"
expect identify-skip-counted 0 "1 pairs used, 1 skipped" -- "$sadi" identify --model "$m" --pairs "$tmp/mixed.jsonl" --out "$tmp/mixed.h5" --max-length 60
expect inspect-skipped-ids 0 "skipped_ids +long" -- "$sadi" inspect "$tmp/mixed.h5"
expect inspect 0 "per layer in the top 3" -- "$sadi" inspect "$tmp/ok.h5" --site head --top 3
expect inspect-json 0 '"per_layer_in_top"' -- "$sadi" inspect "$tmp/ok.h5" --json
# a separator that is not UTF-8 is kept in the mask; inspect --json still prints valid JSON (U+FFFD)
"$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/sep.h5" --separator "$(printf '\377')" --log-level error
check inspect-json-non-utf8-separator bash -c '"$0" inspect "$1" --json | "$2" -c "import json, sys; json.load(sys.stdin)"' "$sadi" "$tmp/sep.h5" "$PYTHON"
# a mask edited after identify wrote it: a warning naming the file, the mask still used
cp "$tmp/ok.h5" "$tmp/edited.h5"
"$PYTHON" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); d=f['head/mean_diff']; v=d[()]; v[0,0]+=1; d[...]=v" "$tmp/edited.h5"; "$PYTHON" "$root/scripts/restamp_mask.py" "$tmp/edited.h5" >/dev/null
expect mask-edited-warns 0 "edited.h5: its numbers do not match the content_sha256" -- "$sadi" inspect "$tmp/edited.h5"
check mask-unedited-quiet bash -c "! \"$sadi\" inspect \"$tmp/ok.h5\" 2>&1 | grep -q 'do not match'"
expect inspect-not-hdf5 3 "not an HDF5 file" -- "$sadi" inspect "$pairs"
expect inspect-missing 4 "file not found" -- "$sadi" inspect "$tmp/nope.h5"

# generate
prompts="$root/tests/data/prompts_small.jsonl"
expect generate-stream 0 "." -- "$sadi" generate --model "$m" --prompt "The movie was" --max-new-tokens 4
long=$(printf 'g%.0s' $(seq 243)).jsonl  # 249 bytes: legal, but too long with a ".NAME.tmp-PID-N" around it
expect generate-long-output-name 0 "generate: " -- "$sadi" generate --model "$m" --input "$prompts" --max-new-tokens 2 --out "$tmp/$long"
check generate-long-output-name-written test -s "$tmp/$long"
expect generate-jsonl 0 '"stop_reason":"length"' -- "$sadi" generate --model "$m" --input "$prompts" --max-new-tokens 3 --ignore-eos
expect generate-timing 0 "timing: load [0-9.]+ ms; prefill [0-9]+ tokens in [0-9.]+ ms \([0-9.]+ tokens/s\); decode [0-9]+ tokens in" -- "$sadi" generate --model "$m" --input "$prompts" --max-new-tokens 3 --ignore-eos --timing-json "$tmp/timing.json" --out "$tmp/gen-t.jsonl"
# the JSON: decode produced every token after each row's first (rows x (3 - 1)); prefill counted every prompt token
check generate-timing-json python3 -c "
import json, sys
t = json.load(open('$tmp/timing.json'))
rows = [json.loads(l) for l in open('$tmp/gen-t.jsonl')]
assert t['decode']['tokens'] == sum(r['output_tokens'] - 1 for r in rows), t
assert t['prefill']['tokens'] == sum(r['prompt_tokens'] for r in rows), t
assert t['generated_tokens'] == sum(r['output_tokens'] for r in rows) and t['load_ms'] > 0 and t['threads'] >= 1, t"
[ "$("$sadi" generate --model "$m" --input "$prompts" --max-new-tokens 2 2>/dev/null | wc -l)" = 3 ] \
  && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL generate-three-lines"; }
expect generate-both-inputs 2 "exactly one of --prompt and --input" -- "$sadi" generate --model "$m" --prompt a --input "$prompts"
expect generate-too-long 3 "prompt 'prompt': [0-9]+ tokens \\+ max_new_tokens 250 exceed the model's maximum of 256" -- "$sadi" generate --model "$m" --prompt "$long" --max-new-tokens 250
expect generate-delta-nan 2 "--delta: expected a finite number" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/ok.h5" --top-k 2 --delta inf
expect generate-k-too-large 2 "--top-k 99: the head site has 12 elements" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/ok.h5" --top-k 99 --delta 1
expect generate-other-model 3 "made for another model" -- "$sadi" generate --model "$data/qwen2" --prompt a --mask "$tmp/ok.h5" --top-k 2 --delta 1
"$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/heads-only.h5" --sites head 2>/dev/null
expect generate-missing-site 3 "no /neuron group" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/heads-only.h5" --site neuron --top-k 2 --delta 1
expect generate-clamp-all 2 "clamp" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/ok.h5" --top-k 2 --delta 1 --mode clamp --steer-positions all
expect generate-delta-no-mask 2 "need --mask" -- "$sadi" generate --model "$m" --prompt a --delta 1
expect generate-unwritable 4 "cannot write" -- "$sadi" generate --model "$m" --input "$prompts" --out /nonexistent/x.jsonl
printf '{"id": 1}\n' > "$tmp/noprompt.jsonl"
expect generate-no-prompt-key 3 "noprompt.jsonl:1: key 'prompt'" -- "$sadi" generate --model "$m" --input "$tmp/noprompt.jsonl" --out "$tmp/g.jsonl"
no_output generate-no-prompt-key-nofile "$tmp/g.jsonl"

# eval
task="$root/tests/data/task_small.jsonl"
expect eval-grid 0 "selected on dev: sadi" -- "$sadi" eval --model "$m" --task "$task" --dev-fraction 0.5 --mask "$tmp/ok.h5" --top-k 1,2 --delta 4,9 --baselines none,random --random-seeds 2 --metric choice --out "$tmp/res.json"
# boolean flags take a separate value (`--batch-invariant false` was read as true before)
expect eval-batch-invariant-off 0 "on cpu as float32; one-token steps: native" -- "$sadi" eval --model "$m" --task "$task" --batch-invariant false --log-level debug --out "$tmp/bi.json"
expect eval-prefix-sharing-off 0 "0 start from 0 shared prompts" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/ok.h5" --top-k 1 --delta 4 --prefix-sharing false --log-level debug --out "$tmp/ps0.json"
expect eval-prefix-sharing-on 0 "96 rows; 96 start from 39 shared prompts in 1 chunk" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/ok.h5" --top-k 1 --delta 4 --log-level debug --out "$tmp/ps1.json"
printf '{"prompt": "a"}\n' > "$tmp/noanswer.jsonl"
# progress: a line redrawn on a terminal (script(1) gives the command one), nothing in a pipe
expect progress-terminal 0 "eval test: [0-9]+/[0-9]+ rows, [0-9.]+ rows/s, done" -- script -qec "\"$sadi\" eval --model \"$m\" --task \"$task\" --mask \"$tmp/ok.h5\" --top-k 1 --delta 4 --out \"$tmp/res-tty.json\"" /dev/null
expect progress-terminal-identify 0 "identify: 48/48 pairs, [0-9.]+ pairs/s, done" -- script -qec "\"$sadi\" identify --model \"$m\" --pairs \"$pairs\" --out \"$tmp/tty.h5\"" /dev/null
check progress-not-in-pipes bash -c "\"$sadi\" eval --model \"$m\" --task \"$task\" --out \"$tmp/res-pipe.json\" 2>&1 >/dev/null | grep -qv \$'\\r' && ! \"$sadi\" eval --model \"$m\" --task \"$task\" --out \"$tmp/res-pipe.json\" 2>&1 | grep -q \$'\\r'"
check progress-quiet-under-warn bash -c "! script -qec \"\\\"$sadi\\\" identify --model \\\"$m\\\" --pairs \\\"$pairs\\\" --out \\\"$tmp/tty2.h5\\\" --log-level warn\" /dev/null | grep -q pairs/s"
expect eval-no-answer 3 "noanswer.jsonl:1: key 'answer': expected a non-empty string" -- "$sadi" eval --model "$m" --task "$tmp/noanswer.jsonl" --out "$tmp/r.json"
printf '{"prompt": "a", "answer": "x", "choices": ["y", "z"]}\n' > "$tmp/badchoice.jsonl"
expect eval-choice-missing-answer 3 "badchoice.jsonl:1: key 'choices': does not contain the answer \"x\"" -- "$sadi" eval --model "$m" --task "$tmp/badchoice.jsonl" --out "$tmp/r.json"
expect eval-empty-dev 3 "leaves an empty dev or test split" -- "$sadi" eval --model "$m" --task "$task" --dev-fraction 0.001 --out "$tmp/r.json"
: > "$tmp/emptydev.jsonl"
expect eval-empty-dev-file 3 "emptydev.jsonl: no records" -- "$sadi" eval --model "$m" --task "$task" --dev "$tmp/emptydev.jsonl" --out "$tmp/r.json"
expect eval-other-model 3 "made for another model" -- "$sadi" eval --model "$data/qwen2" --task "$task" --mask "$tmp/ok.h5" --out "$tmp/r.json"
printf '{"prompt": "a", "answer": "b"}\n' > "$tmp/nochoices.jsonl"
expect eval-choice-needs-choices 3 "needs \"choices\"" -- "$sadi" eval --model "$m" --task "$tmp/nochoices.jsonl" --metric choice --out "$tmp/r.json"
expect eval-bad-list 2 "--delta: expected a comma-separated list of numbers" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/ok.h5" --delta 4,x
expect eval-caa-layers 2 "^sadi: error: --caa-layers: layer 9 out of range \[0, 3\)" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/ok.h5" --baselines caa --caa-layers 9
expect generate-layers 2 "^sadi: error: --layers: layer 9 out of range" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/ok.h5" --method caa --delta 1 --layers 9
expect generate-clamp-positions 2 "^sadi: error: --steer-positions: clamp mode steers the last prompt token only" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/ok.h5" --top-k 1 --delta 1 --mode clamp --steer-positions prompt-all
expect eval-fixed-needs-dev 2 "^sadi: error: --dev or --dev-fraction: method fixed-dir takes SADI's mean edit over calibration inputs" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/ok.h5" --baselines fixed-dir,fixed --top-k 1 --delta 1
expect eval-sadi-not-a-baseline 2 "^sadi: error: --baselines: sadi is always evaluated" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/ok.h5" --baselines none,sadi
expect eval-random-seeds 2 "^sadi: error: --random-seeds: expected an integer from 1 to 10000, found 0" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/ok.h5" --baselines random --random-seeds 0
expect eval-em-rule 2 "^sadi: error: --em-rule: expected reference or lenient, found 'loose'" -- "$sadi" eval --model "$m" --task "$task" --em-rule loose
printf '{"id":"same","prompt":"The sky is","positive":"blue","negative":"blue"}\n' | cat - "$pairs" >"$tmp/some-same.jsonl"
expect identify-identical-pair-warning 0 "warning identify: 1 pair\(s\) have the same tokens for positive and negative \('same' \(line 1\)\)" -- "$sadi" identify --model "$m" --pairs "$tmp/some-same.jsonl" --out "$tmp/some-same.h5" --sites head
expect identify-no-iti 0 "48 pairs used" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/noiti.h5" --sites head --no-iti
expect generate-iti-needs-scores 2 "^sadi: error: --mask: the mask file has no ITI scores \(identify ran without ITI's probes, or not on the head site\)" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/noiti.h5" --method iti --top-k 1 --delta 1
expect generate-fixed-needs-calibration 2 "^sadi: error: --calibration: method fixed takes" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/ok.h5" --method fixed --top-k 1 --delta 1
expect identify-bootstrap-bounds 2 "^sadi: error: --bootstrap: expected an integer from 0 to 100000, found -1" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/x.h5" --bootstrap -1
expect identify-unstable-warning 0 "warning identify: the hidden site's top 3 is unstable: a bootstrap resample of the pairs keeps [0-9]+% of it" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/boot.h5" --top-k 3 --bootstrap 20
expect inspect-stability 0 "stability over 20 bootstrap resamples" -- "$sadi" inspect "$tmp/boot.h5" --site head
expect eval-unstable-warning 0 "warning eval: the hidden site's top 3 is unstable" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/boot.h5" --site hidden --top-k 3 --delta 1
: >"$tmp/real-target.json"
ln -sf "$tmp/real-target.json" "$tmp/out-link.json"
expect output-through-symlink 0 "selected on dev" -- "$sadi" eval --model "$m" --task "$task" --dev-fraction 0.5 --out "$tmp/out-link.json"
check output-link-kept test -L "$tmp/out-link.json" -a -s "$tmp/real-target.json"
expect generate-prompt-out 0 "" -- "$sadi" generate --model "$m" --prompt "The sky" --max-new-tokens 2 --out "$tmp/one.jsonl"
check generate-prompt-out-written grep -q '"stop_reason"' "$tmp/one.jsonl"
no_output eval-no-partial "$tmp/r.json"
expect eval-shard-syntax 2 "--shard: expected I/N" -- "$sadi" eval --model "$m" --task "$task" --shard 2-3
expect eval-shard-range 2 "--shard: expected 1 <= I <= N, found '4/3'" -- "$sadi" eval --model "$m" --task "$task" --shard 4/3
head -n 2 "$task" > "$tmp/two.jsonl"
expect eval-shard-too-many 3 "the test split has only 2 items" -- "$sadi" eval --model "$m" --task "$tmp/two.jsonl" --shard 3/3 --out "$tmp/r.json"
expect eval-generate-em 0 "none +- +- +[01]\\.[0-9]{3}" -- "$sadi" eval --model "$m" --task "$tmp/two.jsonl" --metric generate-em --max-new-tokens 3
expect eval-bad-metric 2 "expected exact-match, choice or generate-em" -- "$sadi" eval --model "$m" --task "$task" --metric bleu
expect merge-not-a-shard 3 "res.json: key 'shard'" -- "$sadi" merge "$tmp/res.json"
expect merge-no-files 2 "give the shard results files" -- "$sadi" merge
no_output eval-shard-no-partial "$tmp/r.json"
# more architectures: load, identify and steer through the C++ runtime
for arch in qwen3 phi3 gemma2 gpt2 bloom; do
  expect "info-$arch" 0 "architecture +$arch" -- "$sadi" info --check "$data/$arch"
  expect "identify-$arch" 0 "." -- "$sadi" identify --model "$data/$arch" --pairs "$pairs" --out "$tmp/$arch.h5" --max-pairs 4
  expect "generate-$arch" 0 "." -- "$sadi" generate --model "$data/$arch" --prompt "The movie was" --max-new-tokens 3 --mask "$tmp/$arch.h5" --site neuron --top-k 5 --delta 9
done
# tokenizer.json models and sadi tokenize
expect info-tokenizer-json 0 "tokenizer.json \\(hf-tokenizer-json, 515 pieces, add_bos yes\\)" -- "$sadi" info "$data/llama-json"
expect tokenize-json 0 "^\\[512,[0-9,]+\\]$" -- "$sadi" tokenize "$data/llama-json" --text "The movie was"
expect tokenize-roundtrip 0 '"text":"The movie was great!"' -- "$sadi" tokenize "$data/llama-json" --no-bos --decode --text "The movie was great!"
expect tokenize-spm 0 "^\\[1,[0-9,]+\\]$" -- "$sadi" tokenize "$data/llama" --text "The movie was"
expect generate-json 0 "." -- "$sadi" generate --model "$data/llama-json" --prompt "The movie was" --max-new-tokens 4
expect tokenize-bad-file 2 "expected a model directory, a tokenizer.json or a tokenizer.model" -- "$sadi" tokenize "$tmp/res.json.txt" --text x
printf '{"model": {"type": "Unigram"}}' > "$tmp/bad-tokenizer.json"
expect tokenize-unsupported 3 "bad-tokenizer.json: key 'model.type': expected \"BPE\"" -- "$sadi" tokenize "$tmp/bad-tokenizer.json" --text x

finish cli
