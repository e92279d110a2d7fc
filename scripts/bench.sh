#!/usr/bin/env bash
# usage: scripts/bench.sh [bench_resnet50 arguments...]
# The README's benchmark command: installs what is missing, builds the `release` preset if needed
# (scripts/build_release.sh, which the Dockerfile runs too) and runs bench_resnet50 (with no
# arguments: its defaults).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build_release.sh bench_resnet50
exec build/release/bench/bench_resnet50 "$@"
