#!/usr/bin/env bash
# usage: scripts/fuzz.sh SECONDS [TARGET...]
# Fuzzes each TARGET (decode, food101_index, safetensors; all by default) for SECONDS seconds with
# libFuzzer under AddressSanitizer and UndefinedBehaviorSanitizer. Installs clang and its
# libFuzzer runtime where missing (apt-get, as root or through sudo), builds fuzz/ on its own with
# clang++ into build/fuzz (no CUDA needed), and runs each target over its committed corpus,
# fuzz/corpus/TARGET, which it only reads: new inputs go to build/fuzz/corpus/TARGET, kept between
# runs. Prints per target the executions, executions per second and what it found; exits non-zero
# when a target found a crash, leak or timeout, naming the input that reproduces it
# (build/fuzz/artifacts/TARGET/...; replay it with build/fuzz/TARGET_fuzzer FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 || ! "$1" =~ ^[1-9][0-9]*$ ]]; then
  sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
  exit 2
fi
seconds=$1
shift
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(decode food101_index safetensors); fi
for target in "${targets[@]}"; do
  [[ -d fuzz/corpus/$target ]] || { echo "error: unknown target '$target' (no fuzz/corpus/$target)" >&2; exit 2; }
done

# clang with libFuzzer's runtime, and what fuzz/ builds against.
scripts/install_deps.sh --fuzz

# UBSan reports recoverable, so that fuzz/ubsan_suppressions.txt can pass over stb_image's known
# findings; halt_on_error makes every other one a crash that libFuzzer saves.
build=build/fuzz
cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DR50_LIBFUZZER=ON "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer" >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/%/_fuzzer}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/fuzz/ubsan_suppressions.txt"

# An input that runs this long under the sanitizers is a hang, not a slow file.
timeout_per_input=20
failed=0
summary=()
for target in "${targets[@]}"; do
  corpus=$build/corpus/$target
  artifacts=$build/artifacts/$target
  log=$build/$target.log
  mkdir -p "$corpus" "$artifacts"
  dict=()
  if [[ -f fuzz/$target.dict ]]; then dict=(-dict="fuzz/$target.dict"); fi
  echo "fuzzing $target for ${seconds}s (log: $log)"
  status=0
  "$build/${target}_fuzzer" "$corpus" "fuzz/corpus/$target" "${dict[@]}" -max_total_time="$seconds" \
      -timeout="$timeout_per_input" -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  found="nothing"
  if ((status != 0)); then
    failed=1
    kind=$(grep -o -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-z-]+|runtime error|FUZZ_CHECK' "$log" || true)
    reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    found="${kind:-exit status $status}, reproducer: ${reproducer:-none written (see $log)}"
  fi
  summary+=("$(printf '%-14s %12s %10s  %s' "$target" "${runs:-?}" "${rate:-?}" "$found")")
done

printf '%-14s %12s %10s  %s\n' target executions execs/s found
printf '%s\n' "${summary[@]}"
exit "$failed"
