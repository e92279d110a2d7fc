#!/usr/bin/env bash
# usage: tests/cli/vanishing_data_test.sh MAKE_FOOD101_FIXTURE BENCH_RESNET50 WORKDIR
# The data directory is deleted while bench_resnet50 trains over it on the CPU backend: the run
# must end by itself, with exit status 1 and a message saying that no image of an epoch could be
# read, rather than hang or crash. Prints "ok" at the end.
set -euo pipefail
fixture=$1 bench=$2 work=$3
source "$(dirname "$0")/process.sh"
rm -rf "$work"
mkdir -p "$work"
out=$work/output.txt
fail() {
  echo "FAIL: $*"
  echo "--- bench_resnet50's output:"
  cat "$out"
  exit 1
}

"$fixture" --out "$work/food-101" --classes 2 --images 4 --seed 3 > /dev/null
# Far more steps than run before the data goes: the run can only end through the missing data.
# The output file exists before the run starts, so the first poll below cannot find it missing.
: >"$out"
"$bench" --device cpu --dataset food101 --data-dir "$work/food-101" --batch-size 4 --image-size 32 \
  --steps 100000 --warmup 0 --workers 2 > "$out" 2>&1 &
pid=$!
# A progress line (after 5 s of measured steps) says the loader is well under way.
for _ in $(seq 1200); do
  grep -qE "step [0-9]+/100000" "$out" && break
  kill -0 "$pid" 2> /dev/null || fail "it ended before the data went"
  sleep 0.1
done
grep -qE "step [0-9]+/100000" "$out" || { kill "$pid"; fail "no progress within 2 minutes"; }
rm -rf "$work/food-101"
if ! ends_within 60 "$pid"; then
  kill "$pid"
  fail "still running a minute after the data went"
fi
status=0
wait "$pid" || status=$?
[[ $status == 1 ]] || fail "exit status $status, not 1"
grep -qE "^error: not one of the 8 images of epoch [0-9]+ could be read or decoded \(the last: images/[a-z_]+/[0-9]+\.jpg: cannot read: No such file or directory\)" \
  "$out" || fail "no message naming the unreadable epoch"
echo ok
