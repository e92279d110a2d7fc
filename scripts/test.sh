#!/usr/bin/env bash
# usage: scripts/test.sh [--quick | --sanitize] [ctest arguments...]
# The README's test command, and CI's: installs what is missing, then configures, builds and runs
# the whole test suite twice, preset `ci` and then preset `asan` (AddressSanitizer and
# UndefinedBehaviorSanitizer, built in build/asan; docs/reliability.md). --quick runs the `ci`
# suite alone (about 3 minutes on two cores, against 10 for both), --sanitize the `asan` suite
# alone. GPU tests skip, saying why, where no GPU answers. The ctest arguments go to each run.
set -euo pipefail
cd "$(dirname "$0")/.."

presets=(ci asan)
case "${1:-}" in
  --quick) presets=(ci); shift ;;
  --sanitize) presets=(asan); shift ;;
esac

scripts/install_deps.sh --tests
export PATH="$PATH:/usr/local/cuda/bin"
for preset in "${presets[@]}"; do
  echo "== preset $preset"
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j "$(nproc)"
  ctest --preset "$preset" -j "$(nproc)" "$@"
done
