# Third-party dependencies (docs/dependencies.md): Debian 12 packages for the C/C++ libraries
# (scripts/install_deps.sh), and LibTorch from the torch wheel in the project's virtual
# environment .venv/ (torch 2.11.0 with CUDA 13.0, requirements/python.lock).

# The Python every script and test uses: -DSADI_PYTHON=..., else $SADI_PYTHON, else the
# project's .venv, else python3 on PATH (the GPU machine's venv).
if(NOT SADI_PYTHON)
  if(DEFINED ENV{SADI_PYTHON})
    set(_py "$ENV{SADI_PYTHON}")
  elseif(EXISTS "${PROJECT_SOURCE_DIR}/.venv/bin/python")
    set(_py "${PROJECT_SOURCE_DIR}/.venv/bin/python")
  else()
    find_program(_py NAMES python3 NO_CACHE)
  endif()
  set(SADI_PYTHON "${_py}" CACHE FILEPATH "the Python with torch, transformers and tokenizers (scripts/install_deps.sh makes .venv)")
endif()
execute_process(COMMAND "${SADI_PYTHON}" -c "import torch; print(torch.utils.cmake_prefix_path)"
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _torch_prefix ERROR_VARIABLE _err
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "SADI_PYTHON=${SADI_PYTHON} cannot import torch (${_err}); "
                      "run scripts/install_deps.sh (it makes .venv) or pass -DSADI_PYTHON=")
endif()
message(STATUS "sadi: Python ${SADI_PYTHON}, LibTorch from ${_torch_prefix}")
list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
find_package(Torch REQUIRED)
# CUDA graphs for the decode step: only where LibTorch has CUDA (docs/gpu.md).
set(_sadi_torch_cuda OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(_sadi_torch_cuda ON)
endif()
option(SADI_CUDA "the CUDA backend plugin libsadi_cuda.so (needs LibTorch with CUDA)" ${_sadi_torch_cuda})
option(SADI_CUDA_GRAPHS "CUDA graphs for the decode step, in the CUDA plugin" ${SADI_CUDA})
message(STATUS "sadi: CUDA plugin ${SADI_CUDA}, CUDA graphs ${SADI_CUDA_GRAPHS}")
# What sadi itself links: LibTorch's CPU libraries (torch_cpu and what it needs), not libtorch.so,
# which pulls in torch_cuda and with it the CUDA libraries.
if(TARGET torch_cpu_library)
  set(SADI_TORCH_CPU_LIBRARIES torch_cpu_library)
else()
  set(SADI_TORCH_CPU_LIBRARIES torch_cpu c10)
endif()
# OpenMP: LibTorch's at::parallel_for is a header template whose `#pragma omp parallel` runs
# threads only in code compiled with -fopenmp (the native decode kernels, lib/model/src/native).
# With GCC, those sources are, and link LibTorch's own libgomp.so.1 where it ships one (pip
# wheels), so that one OpenMP runtime is loaded, as for PyTorch's C++ extensions. Other compilers
# (clang: the sanitizer build) would emit calls to another runtime (libomp); there the kernels
# are built without OpenMP and run on one thread (native::openmp_enabled() says so).
set(SADI_NATIVE_OPENMP OFF)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  find_package(OpenMP COMPONENTS CXX)
  if(OpenMP_CXX_FOUND)
    set(SADI_NATIVE_OPENMP ON)
    find_library(SADI_OPENMP_LIBRARY NAMES libgomp.so.1 PATHS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH)
    if(SADI_OPENMP_LIBRARY)
      set(SADI_OPENMP_LINK "${SADI_OPENMP_LIBRARY}")
    else()
      set(SADI_OPENMP_LINK OpenMP::OpenMP_CXX)
    endif()
  endif()
endif()
message(STATUS "sadi: native decode kernels on OpenMP threads: ${SADI_NATIVE_OPENMP} ${SADI_OPENMP_LINK}")
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

# The torch wheel's libtorch.so exports its own copy of part of std::filesystem (built with an
# older toolchain's static libstdc++fs); found first, its remove_all crashes (jumps to address
# 0). Naming libstdc++ before every library puts it first in the search order, so each
# std::filesystem call binds to the system's libstdc++ (tests: Fs.*, docs/building.md).
add_link_options("LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
