# Third-party dependencies. Debian 12 packages on the CPU machines (scripts/install_deps.sh);
# on a GPU machine pass -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
# to build against the LibTorch inside pip torch (docs/building.md).
find_package(Torch REQUIRED)
# CUDA graphs for the decode step: only where LibTorch has CUDA (docs/gpu.md).
set(_sadi_torch_cuda OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(_sadi_torch_cuda ON)
endif()
option(SADI_CUDA_GRAPHS "CUDA graphs for the decode step (needs LibTorch with CUDA)" ${_sadi_torch_cuda})
message(STATUS "sadi: CUDA graphs ${SADI_CUDA_GRAPHS}")
find_package(nlohmann_json 3.9 REQUIRED)
find_package(spdlog REQUIRED)
find_package(cxxopts REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(ICU 60 REQUIRED COMPONENTS uc i18n)  # tokenizer.json: Unicode regex and NFC
find_package(PkgConfig REQUIRED)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)

if(TORCH_CUDA_LIBRARIES OR CUDA_FOUND)
  set(SADI_BACKEND_INFO "LibTorch ${Torch_VERSION} with CUDA")
else()
  set(SADI_BACKEND_INFO "LibTorch ${Torch_VERSION} CPU")
endif()
message(STATUS "sadi: ${SADI_BACKEND_INFO}")

# Debian's libtorch CMake config adds flags as a string; keep them for torch targets only.
separate_arguments(SADI_TORCH_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
