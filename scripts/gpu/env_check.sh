#!/usr/bin/env bash
# What the machine has (scripts/gpu/run_all.sh's first stage): GPU, driver, Python and torch,
# compilers, the headers the build needs. Usage: env_check.sh DEVICE PYTHON OUT_JSON
# Fails when DEVICE is cuda and torch sees no CUDA device.
set -uo pipefail
device=$1 py=$2 json=$3
echo "date: $(date -u +%FT%TZ)  host: $(uname -srm)  cores: $(nproc)  memory: $(free -g | awk '/Mem:/{print $2}') GiB"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
for t in cmake ninja g++ nvcc; do printf '%s: ' "$t"; command -v "$t" >/dev/null && "$t" --version | head -1 || echo absent; done
for h in nlohmann/json.hpp unicode/regex.h hdf5.h sentencepiece_processor.h spdlog/spdlog.h cxxopts.hpp gtest/gtest.h; do
  if [ -e "/usr/include/$h" ]; then echo "header $h: /usr/include"; else echo "header $h: absent from /usr/include"; fi
done
"$py" - "$device" "$json" <<'PY'
import json, platform, sys
import torch
device, out = sys.argv[1:3]
info = {"python": platform.python_version(), "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(), "device": device}
if torch.cuda.is_available():
    info["gpu"] = torch.cuda.get_device_name(0)
    info["cuda"] = torch.version.cuda
try:
    import transformers
    info["transformers"] = transformers.__version__
except ImportError:
    info["transformers"] = None
print(json.dumps(info))
json.dump(info, open(out, "w"), indent=1)
if device == "cuda" and not info["cuda_available"]:
    sys.exit("env: --device cuda but torch sees no CUDA device")
PY
