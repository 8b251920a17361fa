#!/usr/bin/env bash
# The README's test command: installs dependencies (Debian 12), builds, runs every test.
# Usage: scripts/test.sh [ctest args...]   (e.g. -L unit, -L model, -R Manifest)
# Environment: BUILD_DIR (default build), SADI_SKIP_DEPS=1 to skip apt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
if [ "${SADI_SKIP_DEPS:-0}" != 1 ]; then
  "$root/scripts/install_deps.sh"
fi
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@"
