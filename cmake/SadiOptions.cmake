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
