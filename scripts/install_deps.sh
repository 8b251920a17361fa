#!/usr/bin/env bash
# Installs everything sadi needs on Debian 12 (the CPU machines and CI).
# Idempotent: packages already present are skipped by apt.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev                       # LibTorch 1.13 (CPU)
  libopenblas0-pthread               # without it libblas.so.3 is the slow reference BLAS
  python3-torch python3-numpy        # /usr/bin/python3: exporter, tiny models, references
  python3-sentencepiece sentencepiece libsentencepiece-dev
  libhdf5-dev python3-h5py
  libcxxopts-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  nlohmann-json3-dev
  libicu-dev                         # tokenizer.json: Unicode regex and NFC (docs/dependencies.md)
  python3-pytest python3-matplotlib python3-jsonschema
  clang libclang-rt-14-dev           # scripts/sanitize.sh: ASan + UBSan build and libFuzzer targets
  slurmctld slurmd slurm-client munge  # the test on a real Slurm (scripts/slurm/local_cluster.sh, docs/cluster.md)
)

# node + npm run Hugging Face's own tokenizer in the tokenizer tests (tests/tokenizer); a node
# installed another way (e.g. nodesource) is used as it is.
command -v npm >/dev/null || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PKGS[@]} packages present" >&2
  exit 0
fi
echo "install_deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
