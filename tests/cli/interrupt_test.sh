#!/usr/bin/env bash
# usage: tests/cli/interrupt_test.sh BENCH_RESNET50 FOOD101_DIR WORKDIR
# Ctrl-C during a long run, on synthetic data and over a Food-101-layout tree (the loader's workers
# must stop too), in the measured steps and in the warm-up: bench_resnet50 stops between two
# steps, says so, writes what it measured to --out atomically (whole JSON, the run marked as
# interrupted, no temporary file left) and exits 130.
# Prints "ok" at the end when every check held.
set -euo pipefail
bench=$1 food101=$2 work=$3
source "$(dirname "$0")/process.sh"
rm -rf "$work"
mkdir -p "$work"

interrupt() {  # interrupt NAME READY_PATTERN BENCH_ARGUMENTS...
  local name=$1 ready=$2 status=0 started=0
  shift 2
  : >"$work/$name.log"  # before the run starts, so that the first poll cannot find it missing
  "$bench" "$@" --out "$work/$name.json" >"$work/$name.log" 2>&1 &
  local pid=$!
  # Once the run is where the test wants it (READY_PATTERN in its output), send SIGINT.
  for _ in $(seq 600); do
    if grep -qE "$ready" "$work/$name.log"; then started=1; break; fi
    sleep 0.1
  done
  ((started)) || { echo "$name: no '$ready' within a minute"; kill -KILL "$pid"; cat "$work/$name.log"; exit 1; }
  kill -INT "$pid"
  if ! ends_within 60 "$pid"; then
    echo "$name: still running a minute after SIGINT"
    kill -KILL "$pid"
    cat "$work/$name.log"
    exit 1
  fi
  wait "$pid" || status=$?
  if [[ $status != 130 ]]; then
    echo "$name: exit status $status, expected 130"
    cat "$work/$name.log"
    exit 1
  fi
  grep -q "error: interrupted by signal 2 after [0-9]* " "$work/$name.log" ||
    { echo "$name: no message naming the interruption"; cat "$work/$name.log"; exit 1; }
  [[ ! -e "$work/$name.json.tmp" ]] || { echo "$name: a temporary results file was left behind"; exit 1; }
  python3 - "$work/$name.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))
runs = results["benchmarks"]
assert runs and runs[0].get("error_occurred"), runs
assert "interrupted by signal 2" in runs[0]["error_message"], runs[0]["error_message"]
assert results["context"]["batch_size"] == "2", results["context"]
PY
}

# Long enough that only the signal ends them; each step takes a fraction of a second at 32x32.
# The progress line comes after a few seconds of measured steps; the warm-up prints nothing, so
# there the signal goes once Google Benchmark has printed the context, just before the run.
steps="step [0-9]+/"
interrupt synthetic "$steps" --device cpu --batch-size 2 --image-size 32 --steps 100000 --warmup 0
interrupt food101 "$steps" --device cpu --dataset food101 --data-dir "$food101" --batch-size 2 --image-size 32 \
  --epochs 100000 --warmup 0 --workers 2
interrupt synthetic_warmup "^precision: " --device cpu --batch-size 2 --image-size 32 --steps 2 --warmup 100000
interrupt food101_warmup "^precision: " --device cpu --dataset food101 --data-dir "$food101" --batch-size 2 \
  --image-size 32 --steps 2 --warmup 100000 --workers 2
echo ok
