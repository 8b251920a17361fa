#!/usr/bin/env bash
# The hardening job (docs/testing.md, "Sanitizers and fuzzing"): builds sadi, its C++ tests and
# the libFuzzer targets with clang under AddressSanitizer + UndefinedBehaviorSanitizer in
# $SAN_BUILD_DIR (default build-san), then runs the C++ tests, the tokenizer.json CLI smoke run,
# each fuzz target's corpus replay and a bounded fuzzing run of SADI_FUZZ_SECONDS (default 30).
# Reuses the test data of the main build ($BUILD_DIR/testdata, $BUILD_DIR/tokref), so run
# scripts/test.sh first (CI does).
# Usage: scripts/sanitize.sh [ctest args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
main=${BUILD_DIR:-$root/build}
san=${SAN_BUILD_DIR:-$root/build-san}
for d in "$main/testdata/.complete" "$main/tokref"; do
  [ -e "$d" ] || { echo "sanitize.sh: $d missing: run scripts/test.sh (or ctest -L 'model|tokenizer') first" >&2; exit 2; }
done
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
if [ ! -f "$san/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$san" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DSADI_SANITIZE=address,undefined -DSADI_FUZZ=ON -DSADI_FUZZ_SECONDS="${SADI_FUZZ_SECONDS:-30}" \
    -DSADI_TESTDATA="$main/testdata" -DSADI_TOKREF="$main/tokref"
fi
cmake --build "$san" -j "$(nproc)"
# detect_leaks=0: libtorch and ICU keep process-lifetime caches that LeakSanitizer would report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$san"
# The sentencepiece plugin cannot load under the sanitizers (RTLD_DEEPBIND): the tests that need
# a tokenizer.model are left out here (they run in the main build); everything else runs.
ctest --output-on-failure -j "$(nproc)" --timeout 900 -L "unit|model|tokenizer|fuzz|cli-json" \
  -FS "models|tokref" -E "$(cat "$root/tests/sanitizer_exclude.txt" | grep -v '^#' | paste -sd'|')" "$@"
