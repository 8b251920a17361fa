#!/usr/bin/env bash
# Compiles the CUDA-only translation unit (lib/model/src/decode_graph.cpp with SADI_CUDA_GRAPHS=1)
# on the CPU machine, syntax only, against Debian's LibTorch 1.13 headers (which ship ATen/cuda and
# c10/cuda) and the CUDA 11.8 headers of Debian's nvidia-cuda-dev (contrib non-free, fetched with
# apt-get download and unpacked headers-only into BUILD/cuda-headers, ~14 MB of the 770 MB .deb).
# A check of syntax and API against torch 1.13, not proof against the GPU machine's torch 2.11
# (../shared/gpu.md); run it before a GPU run. Usage: check_cuda_compile.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
hdr="$build/cuda-headers"
if [ ! -e "$hdr/usr/include/cuda_runtime_api.h" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  src=/etc/apt/sources.list.d/sadi-nonfree.sources
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: contrib non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$src"
  apt-get update -qq
  (cd "$tmp" && apt-get download nvidia-cuda-dev)
  rm -f "$src"; apt-get update -qq
  mkdir -p "$hdr"
  dpkg-deb --fsys-tarfile "$tmp"/nvidia-cuda-dev_*.deb | tar -x -C "$hdr" --wildcards '*include*'
fi
# Debian's CPU LibTorch lacks the generated c10/cuda/impl/cuda_cmake_macros.h
mkdir -p "$hdr/stub/c10/cuda/impl"
printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' > "$hdr/stub/c10/cuda/impl/cuda_cmake_macros.h"
cmd=$(/usr/bin/python3 - "$build/compile_commands.json" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    if e["file"].endswith("lib/model/src/decode_graph.cpp"):
        print(e.get("command") or " ".join(e["arguments"]))
        break
PY
)
[ -n "$cmd" ] || { echo "check_cuda_compile: decode_graph.cpp not in $build/compile_commands.json" >&2; exit 1; }
cmd=$(echo "$cmd" | sed -E 's| -o [^ ]+| |; s| -c | -fsyntax-only -DSADI_CUDA_GRAPHS=1 -c |')
(cd "$build" && eval "$cmd -I$hdr/stub -I$hdr/usr/include")
echo "check_cuda_compile: decode_graph.cpp compiles with SADI_CUDA_GRAPHS=1 against LibTorch 1.13 + CUDA 11.8 headers"
