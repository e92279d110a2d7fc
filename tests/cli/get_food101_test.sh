#!/usr/bin/env bash
# usage: tests/cli/get_food101_test.sh GET_FOOD101_SH FIXTURE WORKDIR complete|missing-image|wrong-count
# FIXTURE: make_food101_fixture's tree of 3 classes, 4 training and 2 test images each. Packs it as
# Food-101's archive is packed (a food-101/ top folder) and runs get_food101.sh --archive on it.
# complete: it unpacks and passes the checks. missing-image: one listed image is left out of the
# archive, and it must fail naming that image. wrong-count: it must fail when told to expect
# another number of training images.
set -euo pipefail
script=$1 fixture=$2 work=$3 case=$4
rm -rf "$work"
mkdir -p "$work/pack"
cp -r "$fixture" "$work/pack/food-101"
expect_train=12
case "$case" in
  complete) ;;
  missing-image) gone="$(head -n1 "$work/pack/food-101/meta/test.txt").jpg"; rm "$work/pack/food-101/images/$gone" ;;
  wrong-count) expect_train=13 ;;
  *) echo "unknown case $case" >&2; exit 2 ;;
esac
tar -czf "$work/food-101.tar.gz" -C "$work/pack" food-101
args=(--archive "$work/food-101.tar.gz" --expect-classes 3 --expect-train "$expect_train" --expect-test 6 "$work/data")
if [[ "$case" == complete ]]; then
  "$script" "${args[@]}"
  exit
fi
if output=$("$script" "${args[@]}" 2>&1); then
  echo "FAIL: get_food101.sh accepted the tree ($case):"$'\n'"$output"
  exit 1
fi
echo "$output"
case "$case" in
  missing-image) grep -qF "$gone" <<<"$output" || { echo "FAIL: the error does not name $gone"; exit 1; } ;;
  wrong-count) grep -qF "lists 12 lines, expected 13" <<<"$output" || { echo "FAIL: the error does not give both counts"; exit 1; } ;;
esac
echo "PASS: get_food101.sh refused the tree ($case)"
