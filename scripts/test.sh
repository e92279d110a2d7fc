#!/usr/bin/env bash
# usage: scripts/test.sh [ctest arguments...]
# The README's test command: installs what is missing, configures the `ci` preset, builds and
# runs the whole test suite. GPU tests skip, saying why, where no GPU answers.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh --tests
export PATH="$PATH:/usr/local/cuda/bin"
cmake --preset ci
cmake --build --preset ci -j "$(nproc)"
ctest --preset ci -j "$(nproc)" "$@"
