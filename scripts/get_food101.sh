#!/usr/bin/env bash
# usage: scripts/get_food101.sh [--archive FILE] [--keep-archive]
#                               [--expect-classes 101] [--expect-train 75750] [--expect-test 25250] DIR
# Downloads Food-101 (food-101.tar.gz, about 5 GB, from the data set's home at ETH Zurich),
# unpacks it into DIR (DIR/meta, DIR/images: what --data-dir takes) and checks the layout: the
# class count, the lines of meta/train.txt and meta/test.txt, and that every listed image is there.
# A download that stops resumes where it stopped on the next run; the archive is deleted once the
# tree checks out, unless --keep-archive. --archive unpacks and checks a food-101.tar.gz already at
# hand instead; the --expect flags let a test check a small one.
set -euo pipefail

url=http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz
archive="" keep_archive=0 dir="" classes=101 train=75750 test=25250
while (($#)); do
  case "$1" in
    --archive) archive="${2:?--archive needs a FILE}"; shift 2 ;;
    --keep-archive) keep_archive=1; shift ;;
    --expect-classes) classes="${2:?$1 needs a number}"; shift 2 ;;
    --expect-train) train="${2:?$1 needs a number}"; shift 2 ;;
    --expect-test) test="${2:?$1 needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [[ -z "$dir" ]] || { echo "error: one DIR only (see --help)" >&2; exit 2; }; dir="$1"; shift ;;
  esac
done
[[ -n "$dir" ]] || { echo "error: no DIR given (see --help)" >&2; exit 2; }
fail() { echo "error: $*" >&2; exit 1; }

# Every line of meta/classes.txt, train.txt and test.txt counted, every listed image looked for.
check() {
  local file count expected
  for file in classes train test; do
    [[ -f "$dir/meta/$file.txt" ]] || fail "$dir/meta/$file.txt is missing: not a Food-101 tree"
  done
  for file in classes train test; do
    count=$(grep -c . "$dir/meta/$file.txt" || true)
    expected=${!file}
    [[ "$count" == "$expected" ]] || fail "$dir/meta/$file.txt lists $count lines, expected $expected"
  done
  local missing
  missing=$(comm -23 <(cat "$dir/meta/train.txt" "$dir/meta/test.txt" | grep . | sed 's|$|.jpg|' | sort -u) \
                     <(cd "$dir/images" && find . -name '*.jpg' | sed 's|^\./||' | sort))
  if [[ -n "$missing" ]]; then
    fail "$(wc -l <<<"$missing") listed image(s) missing under $dir/images: $(head -5 <<<"$missing" | tr '\n' ' ')"
  fi
  echo "Food-101 is ready in $dir: $classes classes, $train training and $test test images"
  echo "use: bench_resnet50 --dataset food101 --data-dir $dir"
}

# A tree already unpacked (and no download or unpacking left half done) is only checked.
if [[ -z "$archive" && -f "$dir/meta/classes.txt" && ! -e "$dir/food-101.tar.gz" && ! -e "$dir/food-101.tar.gz.part" ]]; then
  echo "$dir already holds a Food-101 tree: checking it"
  check
  exit 0
fi

mkdir -p "$dir"
if [[ -z "$archive" ]]; then
  archive="$dir/food-101.tar.gz"
  if [[ ! -f "$archive" ]]; then
    echo "downloading $url (about 5 GB) to $archive.part"
    if command -v curl >/dev/null; then
      curl -fL --retry 5 -C - -o "$archive.part" "$url" || fail "download failed: run again to resume"
    elif command -v wget >/dev/null; then
      wget -c -O "$archive.part" "$url" || fail "download failed: run again to resume"
    else
      fail "neither curl nor wget is installed: install one (apt-get install curl)"
    fi
    mv "$archive.part" "$archive"
  fi
else
  [[ -f "$archive" ]] || fail "no archive at $archive"
  keep_archive=1
fi

echo "unpacking $archive into $dir"
tar -xzf "$archive" -C "$dir" --strip-components=1 food-101/ ||
  fail "$archive did not unpack: is it Food-101's archive, with a food-101/ top folder?"
check
if ((!keep_archive)); then
  rm -f "$archive"
fi
