#!/usr/bin/env bash
# The bad-input catalogue (docs/errors.md, "Bad-input catalogue"): every documented error path,
# run from the command line. Each case asserts the exit code, the message and that no output file
# (nor a temporary sibling of it) is left behind. Every case name must appear in docs/errors.md's
# catalogue and every name there must be run here.
# Usage: catalogue.sh SADI TESTDATA [DOCS]
set -u
sadi=$1
data=$2
docs=${3:-$(cd "$(dirname "$0")/../.." && pwd)/docs/errors.md}
py=${PYTHON:-${SADI_PYTHON:-$(cd "$(dirname "$0")/../.." && pwd)/.venv/bin/python}}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/harness.sh"

m="$data/llama"
pairs="$tmp/pairs.jsonl"
task="$tmp/task.jsonl"
printf '{"id":"a","prompt":"The sky is","positive":" blue","negative":" green"}\n{"id":"b","prompt":"Snow is","positive":" white","negative":" black"}\n' >"$pairs"
printf '{"id":"a","prompt":"The sky is","answer":"blue","choices":["blue","green"]}\n{"id":"b","prompt":"Snow is","answer":"white","choices":["white","black"]}\n' >"$task"
"$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/mask.h5" --log-level warn || { echo "FAIL setup: identify"; exit 1; }
"$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/heads.h5" --sites head --log-level warn
O="$tmp/out.h5"
R="$tmp/res.json"

# --- model directory -------------------------------------------------------------------------
copy_model() { rm -rf "$tmp/$1"; cp -r "$m" "$tmp/$1"; echo "$tmp/$1"; }
case_ model-dir-missing 4 "/nonexistent: not found \(expected a model directory written by scripts/export_hf.py\)" "$O" -- "$sadi" identify --model /nonexistent --pairs "$pairs" --out "$O"
case_ model-dir-not-a-model 4 "manifest.json: file not found" "$O" -- "$sadi" identify --model "$tmp" --pairs "$pairs" --out "$O"
d=$(copy_model malformed); printf '{"format_version": 2,\n  "dims": {\n' >"$d/manifest.json"
case_ manifest-malformed 3 "manifest.json: malformed JSON: parse error at line 3" "$O" -- "$sadi" identify --model "$d" --pairs "$pairs" --out "$O"
d=$(copy_model empty-manifest); : >"$d/manifest.json"
case_ manifest-empty 3 "manifest.json: malformed JSON" "$O" -- "$sadi" identify --model "$d" --pairs "$pairs" --out "$O"
d=$(copy_model newer); "$py" -c "import json,sys; p=sys.argv[1]; j=json.load(open(p)); j['format_version']=3; json.dump(j,open(p,'w'))" "$d/manifest.json"
case_ manifest-newer-format 3 "key 'format_version': this sadi reads format_version 2 or below, found 3" "$O" -- "$sadi" eval --model "$d" --task "$task" --out "$R"
d=$(copy_model no-key); "$py" -c "import json,sys; p=sys.argv[1]; j=json.load(open(p)); del j['dims']['n_layers']; json.dump(j,open(p,'w'))" "$d/manifest.json"
case_ manifest-missing-key 3 "key 'dims.n_layers': expected a positive integer, found nothing" "$O" -- "$sadi" identify --model "$d" --pairs "$pairs" --out "$O"
d=$(copy_model truncated); head -c 5000 "$m/model.ts" >"$d/model.ts"
case_ model-ts-truncated 3 "model.ts: size is 5000 bytes but .*manifest.json records" "$O" -- "$sadi" identify --model "$d" --pairs "$pairs" --out "$O"
d=$(copy_model corrupt); "$py" -c "
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read())
for i in range(0, len(b), 7): b[i] ^= 0x5a
open(p,'wb').write(b)" "$d/model.ts"
case_ model-ts-corrupt 3 "model.ts: cannot load the TorchScript module" "$R" -- "$sadi" eval --model "$d" --task "$task" --out "$R"
d=$(copy_model other-export); cp "$data/qwen2/model.ts" "$d/model.ts"; "$py" -c "
import json,os,sys; p=sys.argv[1]; j=json.load(open(p)); j['model_file']['bytes']=os.path.getsize(sys.argv[2]); json.dump(j,open(p,'w'))" "$d/manifest.json" "$d/model.ts"
case_ model-ts-other-export 3 "does not match manifest.json" "$O" -- "$sadi" identify --model "$d" --pairs "$pairs" --out "$O"
d=$(copy_model no-tokenizer); rm "$d/tokenizer.model"
case_ tokenizer-missing 4 "tokenizer.model: file not found" "$O" -- "$sadi" identify --model "$d" --pairs "$pairs" --out "$O"
# model directories that contradict themselves or hold non-finite weights (tests/cli/break_model.py)
brk() { "$py" "$(dirname "$0")/break_model.py" "$1" "$m" "$tmp/$1" && echo "$tmp/$1"; }
d=$(brk nan-weight)
case_ weight-nan 3 "model.ts: weight 'embed_tokens.weight' \[512, 64\] holds 64 non-finite values \(NaN or inf\), the first in row 509" "$O" -- "$sadi" identify --model "$d" --pairs "$pairs" --out "$O"
d=$(brk inf-weight)
case_ weight-inf-info-check 3 "model.ts: weight 'layers.2.mlp.down_proj.weight' \[64, 160\] holds 1 non-finite" - -- "$sadi" info "$d" --check
d=$(brk wrong-structure)
case_ model-ts-wrong-structure 3 "model.ts: forward returned Tensor; expected \(logits \[B, N, vocab 512\], dict of captures\)" "$R" -- "$sadi" eval --model "$d" --task "$task" --out "$R"
d=$(brk heads-disagree)
case_ manifest-heads-disagree 3 "manifest.json: key 'dims.n_heads' is 8 but model.ts has 4" - -- "$sadi" info "$d" --check
d=$(brk ffn-disagree)
case_ manifest-ffn-disagree 3 "manifest.json: key 'dims.d_ffn' is 200 but model.ts has 160" "$tmp/gen.jsonl" -- "$sadi" generate --model "$d" --prompt a --out "$tmp/gen.jsonl"
d=$(copy_model huge-int); "$py" -c "import json,sys; p=sys.argv[1]; j=json.load(open(p)); j['dims']['n_layers']=2**63; json.dump(j,open(p,'w'))" "$d/manifest.json"
case_ manifest-int-beyond-int64 3 "key 'dims.n_layers': expected a positive integer, found 9223372036854775808 \(beyond the 64-bit integer range\)" - -- "$sadi" info "$d"

cp -r "$m" "$tmp/tsdir" && rm "$tmp/tsdir/model.ts" && mkdir "$tmp/tsdir/model.ts"
case_ model-ts-is-a-directory 4 "tsdir/model.ts: is a directory, expected a file" "$R" -- "$sadi" eval --model "$tmp/tsdir" --task "$task" --out "$R"
cp -r "$m" "$tmp/tokdir" && rm "$tmp/tokdir/tokenizer.model" && mkdir "$tmp/tokdir/tokenizer.model"
case_ tokenizer-is-a-directory 4 "tokdir/tokenizer.model: is a directory, expected a file" "$R" -- "$sadi" eval --model "$tmp/tokdir" --task "$task" --out "$R"

# --- pairs and task files --------------------------------------------------------------------
: >"$tmp/empty.jsonl"
case_ pairs-empty 3 "empty.jsonl: no records" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/empty.jsonl" --out "$O"
printf '{"prompt":"a","positive":"b","negative":"c"}\n{"prompt": "a", "positive": \n' >"$tmp/bad.jsonl"
case_ pairs-malformed 3 "bad.jsonl:2: malformed JSON" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/bad.jsonl" --out "$O"
printf '{"prompt":"a","positive":"","negative":"c"}\n' >"$tmp/nopos.jsonl"
case_ pairs-missing-field 3 "nopos.jsonl:1: key 'positive': expected a non-empty string" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/nopos.jsonl" --out "$O"
printf '{"prompt":"a","positive":"b","negative":"c","weight":1e999}\n' >"$tmp/overflow.jsonl"
case_ pairs-number-overflow 3 "overflow.jsonl:1: malformed JSON: number overflow" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/overflow.jsonl" --out "$O"
printf '\xff\xfe{"prompt":"a"}\n' >"$tmp/binary.jsonl"
case_ pairs-not-json 3 "binary.jsonl:1: malformed JSON" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/binary.jsonl" --out "$O"
case_ pairs-file-missing 4 "nope.jsonl: file not found" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/nope.jsonl" --out "$O"
mkdir -p "$tmp/pairs-dir.jsonl"
case_ pairs-is-a-directory 4 "pairs-dir.jsonl: is a directory, expected a file" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/pairs-dir.jsonl" --out "$O"
"$py" -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$tmp/sock.jsonl"
case_ task-is-a-socket 4 "sock.jsonl: is a socket, expected a file" "$R" -- "$sadi" eval --model "$m" --task "$tmp/sock.jsonl" --out "$R"
"$py" -c "
import json
print(json.dumps({'prompt': 'x' * (20 << 20), 'positive': 'a', 'negative': 'b'}))" >"$tmp/hugeline.jsonl"
case_ pairs-line-over-limit 3 "hugeline.jsonl:1: line longer than the limit of 16777216 bytes \(refused after reading the limit" "$O" -- bash -c "ulimit -v 4000000; exec \"\$0\" \"\$@\"" "$sadi" identify --model "$m" --pairs "$tmp/hugeline.jsonl" --out "$O"
printf '{"prompt":"The sky is"}\n{"prompt":"%s"}\n' "$("$py" -c "print('w' * 2000)")" >"$tmp/prompts-long.jsonl"
case_ prompts-line-over-set-limit 3 "prompts-long.jsonl:2: line longer than the limit of 1000 bytes" "$tmp/gen.jsonl" -- env SADI_MAX_LINE_BYTES=1000 "$sadi" generate --model "$m" --input "$tmp/prompts-long.jsonl" --out "$tmp/gen.jsonl"
case_ line-limit-not-a-number 2 "environment variable SADI_MAX_LINE_BYTES: expected a positive number of bytes, found '1e3'" "$O" -- env SADI_MAX_LINE_BYTES=1e3 "$sadi" identify --model "$m" --pairs "$pairs" --out "$O"
case_ manifest-over-file-limit 3 "manifest.json: [0-9]+ bytes exceed the limit of 100 bytes" - -- env SADI_MAX_FILE_BYTES=100 "$sadi" info "$m"
printf '{"id":1.5,"prompt":"a","answer":"b"}\n' >"$tmp/floatid.jsonl"
case_ task-id-not-integer 3 "floatid.jsonl:1: key 'id': expected a string or an integer \(larger ids as strings\), found 1.5" "$R" -- "$sadi" eval --model "$m" --task "$tmp/floatid.jsonl" --out "$R"
printf '{"id":123456789012345678901234567890,"prompt":"a","answer":"b"}\n' >"$tmp/hugeid.jsonl"
case_ task-id-beyond-uint64 3 "hugeid.jsonl:1: key 'id': expected a string or an integer \(larger ids as strings\)" "$R" -- "$sadi" eval --model "$m" --task "$tmp/hugeid.jsonl" --out "$R"
long=$("$py" -c "print('word ' * 400)")
printf '{"id":"long","prompt":"%s","positive":" a","negative":" b"}\n' "$long" >"$tmp/long.jsonl"
case_ pair-over-length-strict 3 "pair 'long' \(line 1\): [0-9]+ tokens exceed the limit of [0-9]+ \(strict\)" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/long.jsonl" --out "$O" --strict
# Far over the limit: refused from the text's bytes before it is tokenized (a 3.4 MB pair cost
# 8.7 s and 580 MB to tokenize; docs/errors.md "Input limits")
"$py" -c "
import json
w = ' '.join('word%d' % (i % 50) for i in range(500000))
print(json.dumps({'id': 'huge', 'prompt': w, 'positive': ' a', 'negative': ' b'}))" >"$tmp/huge.jsonl"
case_ pair-far-over-length 3 "pair 'huge' \(line 1\): at least [0-9]+ tokens \(counted from its [0-9]+ bytes\) exceed the limit of [0-9]+ \(strict\)" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/huge.jsonl" --out "$O" --strict
"$py" -c "
import json
print(json.dumps({'id': 'huge', 'prompt': 'word ' * 800000}))" >"$tmp/hugeprompt.jsonl"
case_ prompt-far-over-length 3 "prompt 'huge': at least [0-9]+ tokens \(counted from its 4000000 bytes\) \+ max_new_tokens 8 exceed" "$tmp/gen.jsonl" -- "$sadi" generate --model "$data/llama-json" --input "$tmp/hugeprompt.jsonl" --max-new-tokens 8 --out "$tmp/gen.jsonl"
printf '{"id":"s1","prompt":"The sky is","positive":"blue","negative":"blue"}\n{"id":"s2","prompt":"Snow is","positive":" white","negative":"white "}\n' >"$tmp/same.jsonl"
case_ pairs-all-identical 3 "no usable pairs: in all 2 the positive and negative sequences are the same tokens \('s1' \(line 1\), 's2' \(line 2\)\)" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/same.jsonl" --out "$O"
# a zero-width space: a non-empty answer that the tokenizer turns into no token at all
printf '{"id":"e1","prompt":"The sky is","positive":"\\u200b","negative":" blue"}\n{"id":"e2","prompt":"Snow is","positive":" white","negative":"\\u200b"}\n' >"$tmp/emptyans.jsonl"
case_ pairs-all-answers-empty 3 "no usable pairs: in all 2 an answer adds no token after the prompt \\('e1' \\(line 1\\), 'e2' \\(line 2\\)\\)" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/emptyans.jsonl" --out "$O"
case_ pairs-all-over-length 3 "no usable pairs: all 1 exceed" "$O" -- "$sadi" identify --model "$m" --pairs "$tmp/long.jsonl" --out "$O"
case_ task-empty 3 "empty.jsonl: no records" "$R" -- "$sadi" eval --model "$m" --task "$tmp/empty.jsonl" --out "$R"
printf '{"prompt":"a"}\n' >"$tmp/noanswer.jsonl"
case_ task-missing-answer 3 "noanswer.jsonl:1: key 'answer'" "$R" -- "$sadi" eval --model "$m" --task "$tmp/noanswer.jsonl" --out "$R"
printf '{"prompt":"a","answer":"x","choices":["y","z"]}\n' >"$tmp/choices.jsonl"
case_ task-choices-without-answer 3 "choices.jsonl:1: key 'choices': does not contain the answer" "$R" -- "$sadi" eval --model "$m" --task "$tmp/choices.jsonl" --out "$R"
printf '{"id":"long","prompt":"%s","answer":"a"}\n' "$long" >"$tmp/longtask.jsonl"
case_ task-item-over-length 3 "item 'long' \(line 1\): [0-9]+ tokens exceed the model's maximum" "$R" -- "$sadi" eval --model "$m" --task "$tmp/longtask.jsonl" --out "$R"
printf '{"id":"p","prompt":"%s"}\n' "$long" >"$tmp/longprompt.jsonl"
case_ prompt-over-length 3 "prompt 'p': [0-9]+ tokens \+ max_new_tokens 8 exceed the model's maximum" "$tmp/gen.jsonl" -- "$sadi" generate --model "$m" --input "$tmp/longprompt.jsonl" --max-new-tokens 8 --out "$tmp/gen.jsonl"

# --- masks -----------------------------------------------------------------------------------
: >"$tmp/empty.h5"
case_ mask-empty 3 "empty.h5: not an HDF5 file" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/empty.h5" --out "$R"
head -c 3000 "$tmp/mask.h5" >"$tmp/truncated.h5"
case_ mask-truncated 3 "truncated.h5: checksum mismatch .*: the file is corrupt" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/truncated.h5" --out "$R"
case_ mask-not-hdf5 3 "task.jsonl: not an HDF5 file" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$task" --out "$R"
case_ mask-missing 4 "none.h5: file not found" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/none.h5" --out "$R"
cp "$tmp/mask.h5" "$tmp/newer.h5"; "$py" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f.attrs['format_version']=2; f.close()" "$tmp/newer.h5"; "$py" "$root/scripts/restamp_mask.py" "$tmp/newer.h5" >/dev/null
case_ mask-newer-format 3 "newer.h5: attribute 'format_version': this sadi reads mask format 1 or below, found 2" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/newer.h5" --out "$R"
case_ mask-other-model 3 "mask.h5: made for another model" "$R" -- "$sadi" eval --model "$data/qwen2" --task "$task" --mask "$tmp/mask.h5" --out "$R"
case_ mask-other-site 3 "heads.h5: no /neuron group" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/heads.h5" --site neuron --out "$R"
"$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/prompt-last.h5" --sites head,residual --position prompt-last --log-level error
case_ mask-prompt-last-caa 3 "prompt-last.h5: attribute 'position' is 'prompt-last'; caa needs a mask read at 'answer-last'" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/prompt-last.h5" --baselines caa --top-k 1 --delta 1 --out "$R"
case_ mask-prompt-last-iti 3 "prompt-last.h5: attribute 'position' is 'prompt-last'; iti needs a mask read at 'answer-last'" - -- "$sadi" generate --model "$m" --prompt "The sky is" --mask "$tmp/prompt-last.h5" --method iti --top-k 1 --delta 1
cp "$tmp/mask.h5" "$tmp/nan.h5"; "$py" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f['head/mean_diff'][1,2]=float('nan'); f.close()" "$tmp/nan.h5"; "$py" "$root/scripts/restamp_mask.py" "$tmp/nan.h5" >/dev/null
case_ mask-dataset-nan 3 "nan.h5: /head: dataset 'mean_diff': expected finite numbers, found nan at flat index 6" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/nan.h5" --top-k 1 --delta 1 --out "$R"
cp "$tmp/mask.h5" "$tmp/inf.h5"; "$py" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f['neuron/ranking_score'][0]=float('inf'); f.close()" "$tmp/inf.h5"; "$py" "$root/scripts/restamp_mask.py" "$tmp/inf.h5" >/dev/null
case_ mask-dataset-inf 3 "inf.h5: /neuron: dataset 'ranking_score': expected finite numbers, found inf at flat index 0" - -- "$sadi" inspect "$tmp/inf.h5"
cp "$tmp/mask.h5" "$tmp/dup.h5"; "$py" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); r=f['head/ranking']; r[1]=r[0]; f.close()" "$tmp/dup.h5"; "$py" "$root/scripts/restamp_mask.py" "$tmp/dup.h5" >/dev/null
case_ mask-ranking-duplicate 3 "dup.h5: /head: dataset 'ranking': entry 1 \(.*\) repeats entry 0; expected every element once" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/dup.h5" --top-k 2 --delta 1 --out "$R"
# a mask damaged after sadi wrote it never reaches libhdf5 (which can crash on corrupt files)
cp "$tmp/mask.h5" "$tmp/flipped.h5"; printf 'X' | dd of="$tmp/flipped.h5" bs=1 seek=3000 conv=notrunc 2>/dev/null
case_ mask-checksum-mismatch 3 "flipped.h5: checksum mismatch .*: the file is corrupt or was modified after sadi wrote it" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/flipped.h5" --top-k 1 --delta 1 --out "$R"
cp "$tmp/mask.h5" "$tmp/header.h5"; printf 'X' | dd of="$tmp/header.h5" bs=1 seek=2 conv=notrunc 2>/dev/null
case_ mask-checksum-header-damaged 3 "header.h5: the checksum header .* is damaged" - -- "$sadi" inspect "$tmp/header.h5"
case_ mask-other-site-generate 3 "heads.h5: no /neuron group" "$tmp/gen.jsonl" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/heads.h5" --site neuron --top-k 2 --delta 1 --out "$tmp/gen.jsonl"

# --- steering values -------------------------------------------------------------------------
case_ top-k-larger-than-site 2 "--top-k 99: the head site has 12 elements" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/mask.h5" --top-k 99 --out "$R"
case_ delta-inf 2 "--delta: expected a finite number, found inf" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/mask.h5" --delta 4,inf --out "$R"
case_ delta-nan 2 "--delta: expected a finite number, found nan" "$tmp/gen.jsonl" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/mask.h5" --top-k 2 --delta nan --out "$tmp/gen.jsonl"
case_ delta-beyond-float32 2 "--delta: expected a finite number in float32, found 1e\+39" "$tmp/gen.jsonl" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/mask.h5" --top-k 2 --delta 1e39 --out "$tmp/gen.jsonl"
for i in 1 2 3 4 5 6; do printf '{"id":"x%d","prompt":"The sky is","answer":"blue"}\n' $i; done >"$tmp/task6.jsonl"
case_ edit-overflows-dtype 2 "--delta: 3e\+38 makes an edit that overflows float32" "$R" -- "$sadi" eval --model "$m" --task "$tmp/task6.jsonl" --dev-fraction 0.5 --mask "$tmp/mask.h5" --baselines none,fixed --top-k 2 --delta 3e38 --out "$R"
case_ logits-non-finite 1 "model forward produced non-finite logits \(NaN or inf\)" "$tmp/gen.jsonl" -- "$sadi" generate --model "$m" --prompt "The sky" --mask "$tmp/mask.h5" --site residual --top-k 20 --delta 1e38 --out "$tmp/gen.jsonl"
case_ top-k-zero 2 "--top-k 0: the head site has 12 elements; expected 1 to 12" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/mask.h5" --top-k 0 --out "$R"
case_ batch-size-zero 2 "--batch-size: expected an integer from 1 to 1048576, found 0" "$O" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$O" --batch-size 0
case_ batch-size-int64-max 2 "--batch-size: expected an integer from 1 to 1048576, found 9223372036854775807" "$R" -- "$sadi" eval --model "$m" --task "$task" --out "$R" --batch-size 9223372036854775807
case_ max-new-tokens-huge 2 "--max-new-tokens: expected an integer from 1 to 1048576, found 9223372036854775000" - -- "$sadi" generate --model "$m" --prompt a --max-new-tokens 9223372036854775000
case_ top-k-empty-list 2 "--top-k: expected at least one value, found an empty list" "$R" -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/mask.h5" --top-k "" --out "$R"
case_ flag-value-unreadable 2 "^sadi: error: --batch-size: cannot read '99999999999999999999' as this flag's value" "$O" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$O" --batch-size 99999999999999999999
case_ threads-negative 2 "^sadi: error: --threads: expected an integer from 0 to 4096, found -2" "$R" -- "$sadi" eval --model "$m" --task "$task" --out "$R" --threads -2
case_ stray-argument 2 "^sadi: error: unexpected argument 'false': every value follows its flag" "$R" -- "$sadi" eval --model "$m" --task "$task" --out "$R" --timing=true false
case_ boolean-flag-not-a-word 2 "^sadi: error: --prefix-sharing: expected true or false, found 'no-thanks'" "$R" -- "$sadi" eval --model "$m" --task "$task" --out "$R" --prefix-sharing no-thanks
case_ max-pairs-negative 2 "--max-pairs: expected an integer from 0 to [0-9]+, found -1" "$O" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$O" --max-pairs -1

# --- outputs ---------------------------------------------------------------------------------
case_ output-dir-missing 4 "/nonexistent/dir/o.h5: cannot write: directory /nonexistent/dir does not exist" /nonexistent/dir/o.h5 -- "$sadi" identify --model "$m" --pairs "$pairs" --out /nonexistent/dir/o.h5
mkdir -p "$tmp/adir"
case_ output-is-a-directory 4 "adir: cannot write: it is a directory" - -- "$sadi" eval --model "$m" --task "$task" --out "$tmp/adir"
case_ output-unwritable 4 "cannot write" /proc/sadi-out.json -- "$sadi" eval --model "$m" --task "$task" --out /proc/sadi-out.json
# --out naming an input (after symbolic links): refused before any work, the input unchanged
unchanged() { local before=$1 file=$2; [ "$(sha256sum <"$file")" = "$before" ] || { fail=$((fail + 1)); echo "FAIL $file changed"; }; }
h=$(sha256sum <"$pairs")
case_ output-is-the-pairs 2 "^sadi: error: --out .*pairs.jsonl: is the input given to --pairs .*inputs are never overwritten" - -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$pairs"
unchanged "$h" "$pairs"
h=$(sha256sum <"$tmp/mask.h5")
case_ output-is-the-mask 2 "^sadi: error: --out .*mask.h5: is the input given to --mask" - -- "$sadi" eval --model "$m" --task "$task" --mask "$tmp/mask.h5" --top-k 1 --delta 1 --out "$tmp/mask.h5"
unchanged "$h" "$tmp/mask.h5"
ln -sf "$task" "$tmp/task-link.jsonl"
h=$(sha256sum <"$task")
case_ output-links-to-the-task 2 "^sadi: error: --out .*task-link.jsonl: is the input given to --task" - -- "$sadi" eval --model "$m" --task "$task" --out "$tmp/task-link.jsonl"
unchanged "$h" "$task"
printf '{"prompt":"The sky is"}\n' >"$tmp/prompts-in.jsonl"
d=$(copy_model out-into-model)
h=$(sha256sum <"$d/manifest.json")
case_ output-is-a-model-file 2 "^sadi: error: --out .*manifest.json: is the input given to --model" - -- "$sadi" generate --model "$d" --input "$tmp/prompts-in.jsonl" --out "$d/manifest.json"
unchanged "$h" "$d/manifest.json"
case_ output-empty-name 2 "^sadi: error: --out: expected a file name, found an empty string" - -- "$sadi" identify --model "$m" --pairs "$pairs" --out ""
# a disk that fills while an output is written (RLIMIT_FSIZE, SIGXFSZ ignored: writes fail with EFBIG)
case_ output-disk-full-mask 4 "out.h5: write failed: File too large" "$O" -- bash -c "trap '' XFSZ; ulimit -f 2; exec \"\$0\" \"\$@\"" "$sadi" identify --model "$m" --pairs "$pairs" --out "$O"
case_ output-disk-full-results 4 "res.json: write failed: File too large" "$R" -- bash -c "trap '' XFSZ; ulimit -f 1; exec \"\$0\" \"\$@\"" "$sadi" eval --model "$m" --task "$task" --mask "$tmp/mask.h5" --top-k 1,2 --delta 1,2 --out "$R"
case_ output-special-file 4 "^sadi: error: /dev/null: cannot write: it is a character device, expected a regular file" - -- "$sadi" eval --model "$m" --task "$task" --out /dev/null

# --- memory ----------------------------------------------------------------------------------
# a batch far beyond the memory allowed (ulimit -v): a clear message, no result file
"$py" -c "
import json
for i in range(3000): print(json.dumps({'id': str(i), 'prompt': 'word ' * 70, 'answer': 'a'}))" >"$tmp/big.jsonl"
case_ batch-out-of-memory 1 "out of memory.*lower the batch size" "$R" -- bash -c "ulimit -v 3000000; exec \"\$0\" \"\$@\"" "$sadi" eval --model "$m" --task "$tmp/big.jsonl" --batch-size 3000 --prefix-sharing false --out "$R"

# --- resume and merge ------------------------------------------------------------------------
printf '{"partial": true, "resume": {"config": {"seed": 5}, "test": {"rows_total": 1, "rows_done": 0, "values": []}}}\n' >"$tmp/partial.json"
cp "$tmp/partial.json" "$tmp/partial-merge.json"
case_ resume-other-configuration 3 "partial.json: key 'resume.config.seed': the partial result was made with 5, this command has 0" - -- "$sadi" eval --model "$m" --task "$task" --out "$tmp/partial.json" --resume
"$sadi" eval --model "$m" --task "$task" --out "$tmp/complete.json" --log-level warn >/dev/null
h=$(sha256sum <"$tmp/complete.json")
case_ resume-complete-other-run 3 "complete.json: key 'grid': this complete result was made by another run" - -- "$sadi" eval --model "$m" --task "$task" --top-k 1 --out "$tmp/complete.json" --resume
unchanged "$h" "$tmp/complete.json"
case_ resume-without-out 2 "--resume needs --out" - -- "$sadi" eval --model "$m" --task "$task" --resume
case_ merge-partial 3 "partial-merge.json: key 'partial': expected a finished shard" "$tmp/merged.json" -- "$sadi" merge "$tmp/partial-merge.json" --out "$tmp/merged.json"
"$sadi" identify --model "$m" --pairs "$pairs" --out "$tmp/shard1.h5" --shard 1/2 --log-level warn
case_ merge-mask-shard-missing 3 "shard 2/2 is missing" "$tmp/merged.h5" -- "$sadi" merge "$tmp/shard1.h5" --out "$tmp/merged.h5"
case_ identify-shard-bootstrap 2 "^sadi: error: --bootstrap needs every pair" "$O" -- "$sadi" identify --model "$m" --pairs "$pairs" --out "$O" --shard 1/2 --bootstrap 10

# --- unreadable files and directories: every input goes through one check that tells missing, a
# directory (or a file where a directory is expected), a special file and no read permission apart
# (exit 4). As root, permissions are enforced by running sadi without the capabilities that
# override them (setpriv, util-linux); as another user, chmod alone does it.
if [ "$(id -u)" = 0 ]; then nopriv=(setpriv --bounding-set=-dac_override,-dac_read_search); else nopriv=(); fi
unreadable() { chmod 000 "$1"; }
: >"$tmp/probe" && chmod 000 "$tmp/probe"
"${nopriv[@]}" cat "$tmp/probe" 2>/dev/null && echo "NOTE: permissions cannot be enforced here; the *-unreadable cases check nothing"
d=$(copy_model dir-noperm) && unreadable "$d"
case_ model-dir-unreadable 4 "dir-noperm: cannot read the directory: Permission denied \(expected a model directory" "$O" -- "${nopriv[@]}" "$sadi" identify --model "$d" --pairs "$pairs" --out "$O"
chmod 755 "$d"
case_ model-dir-is-a-file 4 "pairs.jsonl: is a file, expected a model directory" "$R" -- "$sadi" eval --model "$pairs" --task "$task" --out "$R"
d=$(copy_model manifest-noperm) && unreadable "$d/manifest.json"
case_ manifest-unreadable 4 "manifest-noperm/manifest.json: cannot read: Permission denied" - -- "${nopriv[@]}" "$sadi" info "$d"
d=$(copy_model ts-noperm) && unreadable "$d/model.ts"
case_ model-ts-unreadable 4 "ts-noperm/model.ts: cannot read: Permission denied" "$R" -- "${nopriv[@]}" "$sadi" eval --model "$d" --task "$task" --out "$R"
d=$(copy_model tok-noperm) && unreadable "$d/tokenizer.model"
case_ tokenizer-unreadable 4 "tok-noperm/tokenizer.model: cannot read: Permission denied" - -- "${nopriv[@]}" "$sadi" tokenize "$d" --text a
cp "$tmp/mask.h5" "$tmp/mask-noperm.h5" && unreadable "$tmp/mask-noperm.h5"
case_ mask-unreadable 4 "mask-noperm.h5: cannot read: Permission denied" "$R" -- "${nopriv[@]}" "$sadi" eval --model "$m" --task "$task" --mask "$tmp/mask-noperm.h5" --out "$R"
mkdir -p "$tmp/mask-dir.h5"
case_ mask-is-a-directory 4 "mask-dir.h5: is a directory, expected a file" - -- "$sadi" inspect "$tmp/mask-dir.h5"
cp "$pairs" "$tmp/pairs-noperm.jsonl" && unreadable "$tmp/pairs-noperm.jsonl"
case_ pairs-unreadable 4 "pairs-noperm.jsonl: cannot read: Permission denied" "$O" -- "${nopriv[@]}" "$sadi" identify --model "$m" --pairs "$tmp/pairs-noperm.jsonl" --out "$O"
cp "$task" "$tmp/task-noperm.jsonl" && unreadable "$tmp/task-noperm.jsonl"
case_ task-unreadable 4 "task-noperm.jsonl: cannot read: Permission denied" "$R" -- "${nopriv[@]}" "$sadi" eval --model "$m" --task "$tmp/task-noperm.jsonl" --out "$R"
printf '{"id":"c","prompt":"The sky is"}\n' >"$tmp/calib-noperm.jsonl" && unreadable "$tmp/calib-noperm.jsonl"
case_ calibration-unreadable 4 "calib-noperm.jsonl: cannot read: Permission denied" "$tmp/gen.jsonl" -- "${nopriv[@]}" "$sadi" generate --model "$m" --prompt a --mask "$tmp/mask.h5" --method fixed --calibration "$tmp/calib-noperm.jsonl" --out "$tmp/gen.jsonl"
mkdir -p "$tmp/calib-dir.jsonl"
case_ calibration-is-a-directory 4 "calib-dir.jsonl: is a directory, expected a file" "$tmp/gen.jsonl" -- "$sadi" generate --model "$m" --prompt a --mask "$tmp/mask.h5" --method fixed --calibration "$tmp/calib-dir.jsonl" --out "$tmp/gen.jsonl"
printf '{"id":"p","prompt":"a"}\n' >"$tmp/prompts-noperm.jsonl" && unreadable "$tmp/prompts-noperm.jsonl"
case_ prompts-unreadable 4 "prompts-noperm.jsonl: cannot read: Permission denied" "$tmp/gen.jsonl" -- "${nopriv[@]}" "$sadi" generate --model "$m" --input "$tmp/prompts-noperm.jsonl" --out "$tmp/gen.jsonl"
cp "$tmp/shard1.h5" "$tmp/shard-noperm.h5" && unreadable "$tmp/shard-noperm.h5"
case_ merge-input-unreadable 4 "shard-noperm.h5: cannot read: Permission denied" "$tmp/merged.h5" -- "${nopriv[@]}" "$sadi" merge "$tmp/shard-noperm.h5" --out "$tmp/merged.h5"

# --- internal errors: a library's own exception (SADI_FAULT throws std::out_of_range "map::at" at
# the named point) is reported with the operation and the file sadi was working on ------------
case_ internal-error-load-model 1 "loading the model .*/model.ts: internal error: map::at \\(an exception none of sadi's checks caught" - -- env SADI_FAULT=load-model "$sadi" info --check "$m"
case_ internal-error-forward 1 "running the model .*/model.ts: internal error: map::at" "$R" -- env SADI_FAULT=forward "$sadi" eval --model "$m" --task "$task" --out "$R"
case_ internal-error-tokenizer 1 "loading the tokenizer .*/tokenizer.model: internal error: map::at" - -- env SADI_FAULT=tokenizer "$sadi" tokenize "$m" --text a
case_ internal-error-mask 1 "reading the mask .*/mask.h5: internal error: map::at" - -- env SADI_FAULT=mask "$sadi" inspect "$tmp/mask.h5"
case_ internal-error-jsonl 1 "reading .*/pairs.jsonl: internal error: map::at" "$O" -- env SADI_FAULT=jsonl "$sadi" identify --model "$m" --pairs "$pairs" --out "$O"

# --- the docs list exactly these cases ---------------------------------------------------------
documented=$(sed -n '/^## Bad-input catalogue/,/^## /p' "$docs" | grep -oE '^\| `[a-z0-9-]+`' | tr -d '|` ')
for n in "${ran[@]}"; do
  grep -qx -- "$n" <<<"$documented" || { fail=$((fail + 1)); echo "FAIL docs: case '$n' is not in $docs's catalogue"; }
done
for n in $documented; do
  printf '%s\n' "${ran[@]}" | grep -qx -- "$n" || { fail=$((fail + 1)); echo "FAIL docs: '$n' is documented but not run"; }
done
finish catalogue
