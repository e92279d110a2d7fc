#!/usr/bin/env bash
# usage: tests/cli/hostile_data_test.sh MAKE_FOOD101_FIXTURE BENCH_RESNET50 WORKDIR
# bench_resnet50 over make_food101_fixture --hostile's tree on the CPU backend, training one epoch
# and evaluating: it must finish (exit status 0), train on the odd but valid images (CMYK,
# grayscale, progressive, a PNG under a .jpg name), and its report must count every bad entry
# exactly and name each one: a bad image with its reason, a skipped index line as file:line with
# its reason. Names are printed escaped (one holds a terminal escape). Prints "ok" at the end.
set -euo pipefail
fixture=$1 bench=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
out=$work/output.txt
fail() {
  echo "FAIL: $*"
  echo "--- bench_resnet50's output:"
  cat "$out"
  exit 1
}

# 3 classes x 3 training images, then the hostile set's 4 odd and 7 bad ones: 20 entries, 5 batches
# of 4, so one epoch reads each once. The test split: 3 x 2 good images, then 4 bad ones, which
# make a batch with no image to evaluate.
"$fixture" --out "$work/food-101" --classes 3 --images 3 --test-images 2 --seed 7 --hostile > "$work/fixture.txt"
grep -qF "hostile: 4 odd but valid training images, 7 bad training and 4 bad test images, 6 bad index lines" \
  "$work/fixture.txt" || { cat "$work/fixture.txt"; echo "FAIL: not the hostile set this test expects"; exit 1; }

status=0
"$bench" --device cpu --dataset food101 --data-dir "$work/food-101" --batch-size 4 --image-size 64 \
  --epochs 1 --warmup 0 --workers 2 --eval > "$out" 2>&1 || status=$?
[[ $status == 0 ]] || fail "exit status $status"

has_line() { grep -qxF -- "$1" "$out" || fail "no line '$1'"; }
has_line "warning: meta/train.txt: 5 lines skipped (escapes the data directory: 3, blank: 1, unknown class 'unknown_food': 1); each is named in the report at the end"
has_line "warning: meta/test.txt: 1 line skipped (unknown class 'unknown_food': 1); each is named in the report at the end"
grep -qE "^data: 13 images decoded, 7 skipped, the training loop waited" "$out" || fail "not 13 decoded and 7 skipped"
has_line "training split: skipped 7 bad images (every one named):"
has_line "  images/apple_pie/bad_truncated.jpg: truncated (no end-of-image marker)"
has_line "  images/apple_pie/bad_empty.jpg: empty file"
has_line "  images/apple_pie/bad_text.jpg: not an image (neither JPEG nor PNG)"
has_line "  images/apple_pie/bad_huge_header.jpg: 65500x65500 pixels is over the 50 MP budget"
has_line "  images/apple_pie/bad_missing.jpg: cannot read: No such file or directory"
has_line "  images/apple_pie/bad_directory.jpg: cannot read: not a regular file"
has_line '  images/apple_pie/bad_name_\x1b[2J.jpg: cannot read: No such file or directory'
has_line "training split: skipped 5 index lines (every one named):"
has_line "  meta/train.txt:16: blank"
has_line "  meta/train.txt:19: escapes the data directory: '../meta/classes'"
has_line "  meta/train.txt:22: escapes the data directory: '/etc/passwd'"
has_line "  meta/train.txt:24: unknown class 'unknown_food': 'unknown_food/1000001'"
has_line "  meta/train.txt:25: escapes the data directory: 'apple_pie/bad_link_outside'"
grep -qE "^top-1 on the test split: [0-9.]+% \([0-6] of 6 images; 4 skipped\)" "$out" || fail "not 6 evaluated and 4 skipped"
has_line "test split: skipped 4 bad images (every one named):"
has_line "  images/baklava/bad_test_truncated.jpg: truncated (no end-of-image marker)"
has_line "  images/baklava/bad_test_empty.jpg: empty file"
has_line "  images/baklava/bad_test_text.jpg: not an image (neither JPEG nor PNG)"
has_line "  images/baklava/bad_test_missing.jpg: cannot read: No such file or directory"
has_line "test split: skipped 1 index line (every one named):"
has_line "  meta/test.txt:9: unknown class 'unknown_food': 'unknown_food/1000002'"

# Nothing named beyond those, no valid image among them, and no raw escape byte on the terminal.
named=$(grep -cE "^  (images|meta)/" "$out" || true)
[[ $named == 17 ]] || fail "$named entries named, not 7 + 5 + 4 + 1"
! grep -qE "odd_|instead_of_" "$out" || fail "a valid image was skipped"
! grep -q $'\x1b' "$out" || fail "a raw escape byte reached the output"
echo ok
