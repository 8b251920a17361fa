#!/usr/bin/env bash
# Fuzzes one target for a bounded time from a scratch copy of its seed corpus (the repository's
# corpus is never written). A crash fails the test and leaves the input in WORK/crashes, with
# the command that reproduces it; copy it into tests/fuzz/corpus/NAME to keep it as a
# regression input (docs/testing.md).
# Usage: run_fuzzer.sh FUZZER CORPUS_DIR WORK_DIR SECONDS
set -euo pipefail
fuzzer=$1 corpus=$2 work=$3 seconds=$4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/crashes"
cp "$corpus"/* "$work/corpus/"
set +e
"$fuzzer" "$work/corpus" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=8192 \
  -artifact_prefix="$work/crashes/" -print_final_stats=1 2>"$work/log"
rc=$?
set -e
tail -n 12 "$work/log"
if [ $rc -ne 0 ]; then
  echo "run_fuzzer: $(basename "$fuzzer") failed (exit $rc); inputs in $work/crashes:" >&2
  ls -la "$work/crashes" >&2
  grep -m 40 -E "ERROR|SUMMARY|#[0-9]+ 0x|terminate|Test unit written" "$work/log" >&2 || true
  echo "reproduce: $fuzzer $work/crashes/<file>" >&2
fi
exit $rc
