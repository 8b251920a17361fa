#!/usr/bin/env bash
# Times the whole test suite of several build trees one after the other, each from fresh
# fixtures (as CI runs it): scripts/dev/time_tests.sh BUILD_DIR... (e.g. an older checkout's
# build and this one's). Prints one line per tree; the logs stay in /tmp/time_tests.*.log.
# Threads: whatever the environment sets (the figures in docs/testing.md: none set).
set -euo pipefail
for build in "$@"; do
  rm -rf "$build/testdata"
  log=/tmp/time_tests.$(echo "$build" | tr '/' '_').log
  start=$(date +%s.%N)
  (cd "$build" && ctest -j "$(nproc)" --timeout 900 >"$log" 2>&1) || true
  end=$(date +%s.%N)
  printf '%s: %.0f s wall, %s\n' "$build" "$(echo "$end - $start" | bc)" "$(grep -E 'tests passed|tests failed' "$log")"
done
