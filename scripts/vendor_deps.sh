#!/usr/bin/env bash
# usage: scripts/vendor_deps.sh [DIR]   (default: .deps)
# Copies the small dependencies a GPU machine without Debian's -dev packages lacks into DIR, from
# this machine's Debian packages: CLI11, nlohmann-json and stb headers, GoogleTest's sources,
# Google Benchmark's library with its CMake package, cuDNN's and NVRTC's headers (for a machine
# whose CUDA came without them), cudnn-frontend's headers (which scripts/install_deps.sh fetches
# from PyPI into .deps/cudnn_frontend), and the photograph the Food-101 fixture is made from.
# Configure there with -DR50_DEPS_DIR=DIR (scripts/device_check.sh does when DIR is .deps).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.deps}

scripts/install_deps.sh --tests
mkdir -p "$dir/include"
cp -r /usr/include/CLI /usr/include/nlohmann "$dir/include/"
mkdir -p "$dir/include/stb" && cp /usr/include/stb/stb_image*.h "$dir/include/stb/"
rm -rf "$dir/googletest" && cp -r /usr/src/googletest "$dir/googletest"
cp -r /usr/include/benchmark "$dir/include/"
lib=lib/x86_64-linux-gnu
mkdir -p "$dir/$lib/cmake"
cp -r "/usr/$lib/cmake/benchmark" "$dir/$lib/cmake/"
# Real files rather than links: the library is found by its soname at run time.
for file in /usr/$lib/libbenchmark.so.1* /usr/$lib/libbenchmark_main.a; do cp -L "$file" "$dir/$lib/"; done
ln -sf libbenchmark.so.1debian "$dir/$lib/libbenchmark.so"
cp /usr/local/cuda/include/cudnn*.h "$dir/include/"
# NVRTC's header, which cudnn-frontend includes, for a CUDA toolkit that came without it.
cp /usr/local/cuda/include/nvrtc.h "$dir/include/"
if [[ "$(realpath -m "$dir")" != "$(realpath -m .deps)" ]]; then
  rm -rf "$dir/cudnn_frontend" && cp -r .deps/cudnn_frontend "$dir/cudnn_frontend"
fi
# The photograph make_food101_fixture builds its images from (Debian's python-matplotlib-data).
mkdir -p "$dir/photos" && cp /usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg "$dir/photos/"
du -sh "$dir"
