#!/usr/bin/env bash
# usage: scripts/bench.sh [bench_resnet50 arguments...]
# The README's benchmark command: installs what is missing, builds the `release` preset if
# needed and runs bench_resnet50 (with no arguments: its defaults).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh
export PATH="$PATH:/usr/local/cuda/bin"
[[ -f build/release/CMakeCache.txt ]] || cmake --preset release
cmake --build --preset release -j "$(nproc)" --target bench_resnet50
exec build/release/bench/bench_resnet50 "$@"
