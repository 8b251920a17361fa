#!/usr/bin/env bash
# End-to-end tests of the sadi binary: output on stdout, errors on stderr with exit codes.
# Usage: run_cli_tests.sh SADI TESTDATA
set -u
sadi=$1
data=$2
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME CODE REGEX -- command...: exit code CODE and REGEX found in stdout+stderr.
expect() {
  local name=$1 code=$2 regex=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -eq "$code" ] && grep -Eq -- "$regex" "$tmp/out" "$tmp/err"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: exit $rc (want $code), want /$regex/"; sed 's/^/  out: /' "$tmp/out" | head -5; sed 's/^/  err: /' "$tmp/err" | head -5
  fi
}

expect help 0 "Usage: sadi COMMAND" -- "$sadi" --help
expect version 0 "^sadi [0-9]+\.[0-9]+\.[0-9]+" -- "$sadi" --version
expect no-args 2 "Usage" -- "$sadi"
expect unknown-command 2 "unknown command 'frobnicate'" -- "$sadi" frobnicate
expect info 0 "head +\[3, 4, 16\]" -- "$sadi" info "$data/llama"
expect info-qwen2 0 "qkv yes" -- "$sadi" info "$data/qwen2"
expect info-json 0 '"n_kv_heads": 2' -- "$sadi" info --json "$data/llama"
expect info-check 0 "ran one forward pass" -- "$sadi" info --check "$data/llama"
expect info-help 0 "MODEL_DIR" -- "$sadi" info --help
expect info-missing-arg 2 "missing MODEL_DIR" -- "$sadi" info
expect info-bad-dir 4 "not a model directory" -- "$sadi" info /nonexistent
expect info-bad-flag 2 "Option .*frob.* does not exist" -- "$sadi" info --frob "$data/llama"
expect info-bad-level 2 "log-level" -- "$sadi" info --log-level loud "$data/llama"
expect info-cuda-absent 2 "CUDA" -- bash -c "if $sadi --version | grep -q CUDA; then echo CUDA; exit 2; else $sadi info --check --device cuda $data/llama; fi"
# stdout carries only the program's output
"$sadi" info --json "$data/llama" 2>/dev/null | "${PYTHON:-/usr/bin/python3}" -c "import json,sys; json.load(sys.stdin)" \
  && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL info-json-parses"; }

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
