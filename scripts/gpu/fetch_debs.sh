#!/usr/bin/env bash
# Run on the CPU machine (Debian 12) before a GPU run: downloads the Debian packages the GPU
# machine may lack (../shared/gpu.md: nlohmann-json and ICU are not known to be there; nothing
# can be installed there) into third_party/debs/, an ignored folder. Carry it to the GPU machine
# (the device tool's `carry: ["third_party/debs"]`, about 20 MB); scripts/gpu/unpack_debs.sh
# unpacks it there with dpkg -x when the headers are missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/third_party/debs"
cd "$root/third_party/debs"
apt-get download nlohmann-json3-dev libicu-dev libicu72
ls -la
