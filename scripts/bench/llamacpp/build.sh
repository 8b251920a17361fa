#!/usr/bin/env bash
# Builds the llama.cpp peer: llama.cpp (CPU, from llama-cpp-python 0.3.36's vendored source that
# scripts/fetch_assets.sh put in third_party/llama.cpp) and our greedy driver (greedy.cpp), into
# third_party/llama.cpp-build (ignored by git; rebuilt only when the source or driver changes).
# Prints the greedy driver's path on stdout (sadi-llamacpp-tokenize lies beside it). Release build, GGML_NATIVE (this machine's SIMD), no BLAS.
# Usage: scripts/bench/llamacpp/build.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
src=${SADI_LLAMACPP_SRC:-$root/third_party/llama.cpp}
build=${SADI_LLAMACPP_BUILD:-$root/third_party/llama.cpp-build}
[ -f "$src/include/llama.h" ] ||
  { echo "llamacpp/build.sh: $src/include/llama.h missing: run scripts/install_deps.sh (scripts/fetch_assets.sh)" >&2; exit 1; }
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
# GGML_NATIVE compiles for the CPU of the build: a build made on another CPU (a machine moved to
# one with other SIMD) is made again, or the peer would run without (or fault on) instructions.
cpu=$(grep -m1 '^flags' /proc/cpuinfo | sha256sum | cut -c1-16)
if [ -f "$build/CMakeCache.txt" ] && [ "$(cat "$build/cpu-flags" 2>/dev/null)" != "$cpu" ]; then
  echo "llamacpp/build.sh: $build was built for another CPU's instruction sets: building again" >&2
  rm -rf "$build"
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root/scripts/bench/llamacpp" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DLLAMACPP_SRC="$src" -DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_BLAS=OFF -DGGML_OPENMP=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF >&2
fi
cmake --build "$build" --target sadi-llamacpp-greedy sadi-llamacpp-tokenize -j "$(nproc)" >&2
echo "$cpu" >"$build/cpu-flags"
echo "$build/sadi-llamacpp-greedy"
