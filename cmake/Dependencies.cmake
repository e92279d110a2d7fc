# Finds the project's dependencies: Debian's packages where they are installed, otherwise the
# copies under R50_DEPS_DIR (header-only libraries in include/, GoogleTest and Google Benchmark
# sources in googletest/ and benchmark/), for machines that have only CUDA and a compiler.

find_package(CUDAToolkit REQUIRED)

# cuDNN and cuBLAS: the CUDA toolkit's copies or a system install, else the ones inside a Python
# environment (pip's nvidia-cudnn-cu* and nvidia-cublas*, as PyTorch ships them), whose folders
# R50_CUDNN_ROOT and R50_CUBLAS_ROOT name. pip installs only versioned library files.
set(R50_CUDNN_ROOT "" CACHE PATH "a cuDNN folder holding include/ and lib/, when not with CUDA")
set(R50_CUBLAS_ROOT "" CACHE PATH "a cuBLAS folder holding include/ and lib/, when not with CUDA")
find_path(R50_CUDNN_INCLUDE_DIR cudnn.h
          HINTS "${R50_CUDNN_ROOT}/include" ${CUDAToolkit_INCLUDE_DIRS} "${R50_DEPS_DIR}/include")
find_library(R50_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9
             HINTS "${R50_CUDNN_ROOT}/lib" "${R50_CUDNN_ROOT}/lib64" ${CUDAToolkit_LIBRARY_DIR})
if(NOT R50_CUDNN_INCLUDE_DIR OR NOT R50_CUDNN_LIBRARY)
  message(FATAL_ERROR "cuDNN 9 not found (cudnn.h: ${R50_CUDNN_INCLUDE_DIR}, library: "
                      "${R50_CUDNN_LIBRARY}): install it with CUDA, or set R50_CUDNN_ROOT")
endif()
add_library(r50_cudnn INTERFACE)
target_include_directories(r50_cudnn SYSTEM INTERFACE "${R50_CUDNN_INCLUDE_DIR}")
target_link_libraries(r50_cudnn INTERFACE "${R50_CUDNN_LIBRARY}")

# cudnn-frontend: cuDNN's graph API in C++, header-only (src/ops/cuda/cudnn_graph.cpp). Not a Debian
# package: scripts/install_deps.sh unpacks the include/ of PyPI's nvidia-cudnn-frontend wheel into
# .deps/cudnn_frontend, and scripts/vendor_deps.sh copies that folder under R50_DEPS_DIR. Its JSON
# serialisation is left out: the plans are not saved, and the project has its own nlohmann-json.
# Its headers call NVRTC (for kernels it compiles itself), so the programs link CUDA's NVRTC: the
# toolkit's, or the one R50_NVRTC_LIBRARY names (pip's nvidia-cuda-nvrtc, as PyTorch ships it).
set(R50_CUDNN_FRONTEND_MIN_VERSION 1.32)
find_path(R50_CUDNN_FRONTEND_INCLUDE_DIR cudnn_frontend.h
          HINTS "${R50_DEPS_DIR}/cudnn_frontend/include" "${PROJECT_SOURCE_DIR}/.deps/cudnn_frontend/include")
if(NOT R50_CUDNN_FRONTEND_INCLUDE_DIR)
  message(FATAL_ERROR "cudnn-frontend (cudnn_frontend.h) not found: run scripts/install_deps.sh, which unpacks "
                      "it into .deps/cudnn_frontend, or set R50_CUDNN_FRONTEND_INCLUDE_DIR")
endif()
file(STRINGS "${R50_CUDNN_FRONTEND_INCLUDE_DIR}/cudnn_frontend_version.h" _r50_fe_version
     REGEX "define CUDNN_FRONTEND_(MAJOR|MINOR|PATCH)_VERSION")
string(REGEX REPLACE ".*MAJOR_VERSION ([0-9]+).*MINOR_VERSION ([0-9]+).*PATCH_VERSION ([0-9]+).*" "\\1.\\2.\\3"
       R50_CUDNN_FRONTEND_VERSION "${_r50_fe_version}")
if(R50_CUDNN_FRONTEND_VERSION VERSION_LESS R50_CUDNN_FRONTEND_MIN_VERSION)
  message(FATAL_ERROR "cudnn-frontend ${R50_CUDNN_FRONTEND_VERSION} in ${R50_CUDNN_FRONTEND_INCLUDE_DIR} is older than "
                      "${R50_CUDNN_FRONTEND_MIN_VERSION}: run scripts/install_deps.sh")
endif()
add_library(r50_cudnn_frontend INTERFACE)
target_include_directories(r50_cudnn_frontend SYSTEM INTERFACE "${R50_CUDNN_FRONTEND_INCLUDE_DIR}")
target_compile_definitions(r50_cudnn_frontend INTERFACE CUDNN_FRONTEND_SKIP_JSON_LIB)
set(R50_NVRTC_LIBRARY "" CACHE FILEPATH "CUDA's NVRTC library (libnvrtc.so*), when not with the CUDA toolkit")
if(R50_NVRTC_LIBRARY)
  target_link_libraries(r50_cudnn_frontend INTERFACE r50_cudnn "${R50_NVRTC_LIBRARY}")
elseif(TARGET CUDA::nvrtc)
  # The library alone: CMake's CUDA::nvrtc also links the driver's stub (libcuda), which would make
  # every program need libcuda.so.1 to start, on a machine without a GPU too. cudnn-frontend
  # reaches the driver through cudaGetDriverEntryPoint instead.
  get_target_property(_r50_nvrtc CUDA::nvrtc IMPORTED_LOCATION)
  target_link_libraries(r50_cudnn_frontend INTERFACE r50_cudnn "${_r50_nvrtc}")
else()
  message(FATAL_ERROR "CUDA's NVRTC (libnvrtc), which cudnn-frontend calls, is not with the CUDA toolkit found: "
                      "install it with CUDA, or set R50_NVRTC_LIBRARY")
endif()
# Its header too: the toolkit's, the one beside R50_NVRTC_LIBRARY (pip's lib/ and include/), or
# scripts/vendor_deps.sh's copy, for a toolkit that came without it.
set(_r50_nvrtc_hints ${CUDAToolkit_INCLUDE_DIRS} "${R50_DEPS_DIR}/include")
if(R50_NVRTC_LIBRARY)
  get_filename_component(_r50_nvrtc_dir "${R50_NVRTC_LIBRARY}" DIRECTORY)
  list(PREPEND _r50_nvrtc_hints "${_r50_nvrtc_dir}/../include")
endif()
find_path(R50_NVRTC_INCLUDE_DIR nvrtc.h HINTS ${_r50_nvrtc_hints})
if(NOT R50_NVRTC_INCLUDE_DIR)
  message(FATAL_ERROR "nvrtc.h, which cudnn-frontend includes, not found: install NVRTC with CUDA, put it under "
                      "R50_DEPS_DIR/include (scripts/vendor_deps.sh), or set R50_NVRTC_INCLUDE_DIR")
endif()
target_include_directories(r50_cudnn_frontend SYSTEM INTERFACE "${R50_NVRTC_INCLUDE_DIR}")

add_library(r50_cublas INTERFACE)
if(TARGET CUDA::cublas AND NOT R50_CUBLAS_ROOT)
  target_link_libraries(r50_cublas INTERFACE CUDA::cublas)
else()
  find_path(R50_CUBLAS_INCLUDE_DIR cublas_v2.h HINTS "${R50_CUBLAS_ROOT}/include" ${CUDAToolkit_INCLUDE_DIRS})
  find_library(R50_CUBLAS_LIBRARY NAMES cublas libcublas.so.13 libcublas.so.12
               HINTS "${R50_CUBLAS_ROOT}/lib" "${R50_CUBLAS_ROOT}/lib64")
  if(NOT R50_CUBLAS_INCLUDE_DIR OR NOT R50_CUBLAS_LIBRARY)
    message(FATAL_ERROR "cuBLAS not found: install it with CUDA, or set R50_CUBLAS_ROOT")
  endif()
  target_include_directories(r50_cublas SYSTEM INTERFACE "${R50_CUBLAS_INCLUDE_DIR}")
  target_link_libraries(r50_cublas INTERFACE "${R50_CUBLAS_LIBRARY}")
endif()
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)

set(_r50_hint_include "")
if(R50_DEPS_DIR)
  list(APPEND CMAKE_PREFIX_PATH "${R50_DEPS_DIR}")
  set(_r50_hint_include "${R50_DEPS_DIR}/include")
endif()

function(r50_header_library target header package)
  find_path(_dir "${header}" HINTS ${_r50_hint_include} PATH_SUFFIXES stb NO_CACHE)
  if(NOT _dir)
    message(FATAL_ERROR "${header} not found: install ${package}, or put it under R50_DEPS_DIR/include")
  endif()
  add_library(${target} INTERFACE)
  target_include_directories(${target} SYSTEM INTERFACE "${_dir}")
endfunction()

r50_header_library(r50_cli11 CLI/CLI.hpp "libcli11-dev")
r50_header_library(r50_json nlohmann/json.hpp "nlohmann-json3-dev")
r50_header_library(r50_stb stb_image.h "libstb-dev")

include(${CMAKE_CURRENT_LIST_DIR}/JpegDecoders.cmake)

if(R50_WITH_OPENBLAS)
  find_package(OpenBLAS CONFIG QUIET)
  if(OpenBLAS_FOUND)
    add_library(r50_blas INTERFACE)
    target_include_directories(r50_blas SYSTEM INTERFACE ${OpenBLAS_INCLUDE_DIRS})
    target_link_libraries(r50_blas INTERFACE ${OpenBLAS_LIBRARIES})
  else()
    message(FATAL_ERROR "OpenBLAS not found: install libopenblas-dev, or configure with -DR50_WITH_OPENBLAS=OFF")
  endif()
endif()

if(R50_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  if(NOT GTest_FOUND)
    if(EXISTS "${R50_DEPS_DIR}/googletest/CMakeLists.txt")
      set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
      add_subdirectory("${R50_DEPS_DIR}/googletest" "${CMAKE_BINARY_DIR}/_deps/googletest" EXCLUDE_FROM_ALL)
      if(NOT TARGET GTest::gtest)  # GoogleTest 1.11 and newer define the aliases themselves
        add_library(GTest::gtest ALIAS gtest)
        add_library(GTest::gtest_main ALIAS gtest_main)
      endif()
    else()
      message(FATAL_ERROR "GoogleTest not found: install libgtest-dev, or put its sources in R50_DEPS_DIR/googletest")
    endif()
  endif()
  include(GoogleTest)
endif()

if(R50_BUILD_BENCH)
  find_package(benchmark CONFIG QUIET)
  if(NOT benchmark_FOUND)
    if(EXISTS "${R50_DEPS_DIR}/benchmark/CMakeLists.txt")
      set(BENCHMARK_ENABLE_TESTING OFF CACHE BOOL "" FORCE)
      set(BENCHMARK_ENABLE_INSTALL OFF CACHE BOOL "" FORCE)
      add_subdirectory("${R50_DEPS_DIR}/benchmark" "${CMAKE_BINARY_DIR}/_deps/benchmark" EXCLUDE_FROM_ALL)
    else()
      message(FATAL_ERROR "Google Benchmark not found: install libbenchmark-dev, or put its sources in R50_DEPS_DIR/benchmark")
    endif()
  endif()
endif()
