#!/usr/bin/env bash
# usage: scripts/device_check.sh OUTDIR [--perf]
# Verifies a GPU machine, ours or a user's. Quick tier (the default): builds for this GPU, runs
# every GPU test with R50_REQUIRE_GPU=1 (a skip is a failure) and compute-sanitizer memcheck over
# the kernel tests. --perf will add the benchmarks and the PyTorch peer. Each phase has its own
# timeout; logs go to OUTDIR, a table to OUTDIR/summary.md and stdout. Exit status: 0 only when
# every phase passed.
set -uo pipefail
out=${1:?usage: scripts/device_check.sh OUTDIR [--perf]}
perf=0
[[ "${2:-}" == "--perf" ]] && perf=1
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"
build=build/device
rows=()
failed=0

phase() {  # phase NAME TIMEOUT_SECONDS COMMAND...
  local name=$1 limit=$2 start status
  shift 2
  start=$(date +%s)
  echo "== $name"
  # bash -c, so that a phase can be one of the functions below (exported with export -f).
  if timeout "$limit" bash -c '"$@"' "$name" "$@" >"$out/$name.log" 2>&1; then
    status=pass
  else
    local rc=$?
    status="FAIL (exit $rc)"
    ((rc == 124)) && status="TIMEOUT after ${limit}s"
    failed=1
    tail -n 30 "$out/$name.log"
  fi
  rows+=("| $name | $status | $(($(date +%s) - start)) s |")
}

machine() {
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  nvcc --version | tail -n 2
  echo "cores: $(nproc)"
}

configure() {
  local options=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=native -DR50_BUILD_BENCH=OFF)
  # Machines without Debian's -dev packages: the vendored copies (scripts/vendor_deps.sh), and
  # the plain GEMM.
  [[ ! -d .deps ]] || options+=(-DR50_DEPS_DIR="$PWD/.deps")
  compgen -G "/usr/include/*/cblas.h" >/dev/null || compgen -G "/usr/include/cblas.h" >/dev/null ||
    options+=(-DR50_WITH_OPENBLAS=OFF)
  cmake -S . -B "$build" "${options[@]}"
}

gpu_tests() { R50_REQUIRE_GPU=1 ctest --test-dir "$build" -L gpu --output-on-failure --no-tests=error; }

memcheck() {
  compute-sanitizer --tool memcheck --error-exitcode 1 --leak-check full "$build/tests/kernels_test"
}

export build
export -f machine configure gpu_tests memcheck
phase machine 60 machine
phase configure 180 configure
phase build 600 cmake --build "$build" -j "$(nproc)"
phase gpu_tests 300 gpu_tests
phase memcheck 300 memcheck
if ((perf)); then
  rows+=("| perf | not yet: the benchmarks arrive with the CUDA backend | - |")
  failed=1
fi

{
  echo "| phase | result | time |"
  echo "| --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
} | tee "$out/summary.md"
exit $failed
