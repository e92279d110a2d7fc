#!/usr/bin/env bash
# usage: scripts/test.sh [--sanitize] [ctest arguments...]
# The README's test command: installs what is missing, configures the `ci` preset, builds and
# runs the whole test suite. GPU tests skip, saying why, where no GPU answers. --sanitize does the
# same under AddressSanitizer and UndefinedBehaviorSanitizer: preset `asan`, built in build/asan
# (docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."

preset=ci
if [[ "${1:-}" == "--sanitize" ]]; then
  preset=asan
  shift
fi

scripts/install_deps.sh --tests
export PATH="$PATH:/usr/local/cuda/bin"
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" -j "$(nproc)" "$@"
