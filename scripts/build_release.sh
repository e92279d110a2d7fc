#!/usr/bin/env bash
# usage: scripts/build_release.sh [target...]
# The build half of the README's benchmark command (scripts/bench.sh), and the Dockerfile's build
# step, so that the two cannot drift apart: installs what is missing, configures the `release`
# preset if needed and builds the targets (bench_resnet50 when none is named) into build/release.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh
export PATH="$PATH:/usr/local/cuda/bin"
[[ -f build/release/CMakeCache.txt ]] || cmake --preset release
cmake --build --preset release -j "$(nproc)" --target "${@:-bench_resnet50}"
