#!/usr/bin/env bash
# usage: scripts/vendor_deps.sh [DIR]   (default: .deps)
# Copies the small dependencies a GPU machine without Debian's -dev packages lacks into DIR, from
# this machine's Debian packages: CLI11, nlohmann-json and stb headers, GoogleTest's sources.
# Configure there with -DR50_DEPS_DIR=DIR (scripts/device_check.sh does when DIR is .deps).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.deps}

scripts/install_deps.sh --tests
mkdir -p "$dir/include"
cp -r /usr/include/CLI /usr/include/nlohmann "$dir/include/"
mkdir -p "$dir/include/stb" && cp /usr/include/stb/stb_image*.h "$dir/include/stb/"
rm -rf "$dir/googletest" && cp -r /usr/src/googletest "$dir/googletest"
du -sh "$dir"
