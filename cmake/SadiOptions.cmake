# Compiler cache and warnings shared by every target.
find_program(SADI_CCACHE ccache)
if(SADI_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${SADI_CCACHE}")
endif()

add_library(sadi_warnings INTERFACE)
target_compile_options(sadi_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter)

execute_process(COMMAND git describe --always --dirty
                WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
                OUTPUT_VARIABLE SADI_GIT_DESCRIBE OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT SADI_GIT_DESCRIBE)
  set(SADI_GIT_DESCRIBE "unknown")
endif()

# Sanitizers for every target (docs/testing.md, "Sanitizers and fuzzing"), e.g.
#   -DSADI_SANITIZE=address,undefined
# vptr is left out: libtorch's classes come from an uninstrumented library.
set(SADI_SANITIZE "" CACHE STRING "comma-separated -fsanitize= list for every target (empty: none)")
if(SADI_SANITIZE)
  add_compile_options(-fsanitize=${SADI_SANITIZE} -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SADI_SANITIZE} -fno-sanitize=vptr)
  add_compile_definitions(SADI_SANITIZED=1)
endif()

# libFuzzer targets for every parser of outside input (tests/fuzz); needs clang.
option(SADI_FUZZ "Build the libFuzzer targets in tests/fuzz (clang)" OFF)
if(SADI_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SADI_FUZZ needs clang (-DCMAKE_CXX_COMPILER=clang++); found ${CMAKE_CXX_COMPILER_ID}")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
