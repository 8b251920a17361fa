#!/usr/bin/env bash
# The README's test command: installs dependencies (Debian packages, .venv, third_party assets:
# scripts/install_deps.sh), builds sadi and the llama.cpp peer, runs every test.
# Usage: scripts/test.sh [ctest args...]   (e.g. -L unit, -L model, -R Manifest)
# Environment: BUILD_DIR (default build), SADI_SKIP_DEPS=1 to skip scripts/install_deps.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
if [ "${SADI_SKIP_DEPS:-0}" != 1 ]; then
  "$root/scripts/install_deps.sh"
fi
"$root/scripts/build.sh"
# llama.cpp, the `llamacpp` test's oracle (built once into third_party/llama.cpp-build, about
# 3 min of CPU; the test would build it itself, but inside its own CTest timeout)
"$root/scripts/bench/llamacpp/build.sh" >/dev/null
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@"
