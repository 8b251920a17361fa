#!/usr/bin/env bash
# On the GPU machine: when nlohmann-json or ICU's headers are missing from /usr/include, unpacks
# the packages scripts/gpu/fetch_debs.sh downloaded (third_party/debs/) into PREFIX with dpkg -x
# and writes PREFIX/env.sh (SADI_DEPS_PREFIX for CMake, LD_LIBRARY_PATH for ICU's libraries).
# Usage: unpack_debs.sh PREFIX. Exit 77 (skipped) when nothing is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$1
if [ -e /usr/include/nlohmann/json.hpp ] && [ -e /usr/include/unicode/regex.h ]; then
  echo "skipped: nlohmann-json and ICU headers are installed"
  exit 77
fi
debs=("$root"/third_party/debs/*.deb)
[ -e "${debs[0]}" ] || { echo "missing headers and no third_party/debs/*.deb: run scripts/gpu/fetch_debs.sh on the CPU machine and carry third_party/debs"; exit 1; }
mkdir -p "$prefix"
for d in "${debs[@]}"; do dpkg -x "$d" "$prefix"; echo "unpacked $(basename "$d")"; done
cat > "$prefix/env.sh" <<ENV
export SADI_DEPS_PREFIX="$prefix/usr"
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
ENV
cat "$prefix/env.sh"
