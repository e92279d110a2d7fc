#!/usr/bin/env bash
# usage: scripts/install_deps.sh [--tests] [--runtime] [--fuzz] [--print] [--distro debian|ubuntu]
# Installs the packages that are missing (apt-get, as root or through sudo), from the one list below:
#   (no option)  what the build needs. The CUDA toolkit (nvcc, cuDNN, cuBLAS) is not a Debian
#                package here: it must already be installed, e.g. under /usr/local/cuda.
#                cudnn-frontend's headers, not a Debian package either, come from PyPI (pip
#                download, pinned by version and hash) into .deps/cudnn_frontend.
#   --tests      adds the test suite's: GoogleTest, torchvision, matplotlib's sample photograph
#                (python-matplotlib-data), from which make_food101_fixture crops its images, and
#                matplotlib itself (python3-matplotlib), with which compare_results.py --png draws.
#   --runtime    instead of the build's packages, only the shared libraries that the built programs
#                load besides CUDA's: the Dockerfile's slim stage, whose base image brings CUDA's.
#   --fuzz       instead of the build's packages, what scripts/fuzz.sh builds fuzz/ with: clang and
#                libFuzzer's runtime, and the data path's libraries (no CUDA needed).
#   --print      prints the names, one a line, and installs nothing.
#   --distro D   names for D (debian: Debian 12; ubuntu: Ubuntu 24.04, the Dockerfile's base)
#                instead of this machine's.
# Options combine: --tests --print lists the build's and the tests' packages.
set -euo pipefail

# One package a line: the option that needs it (build: always, unless --runtime), its Debian 12 name
# and its Ubuntu 24.04 name ("=": the same; "-": not packaged there). The runtime lines are the
# libraries bench_resnet50 and resnet50_verify link (readelf -d), mapped to packages with dpkg -S;
# tests/scripts/dockerfile_test.py checks them against the programs built here. git is a build
# package because the build records the source's commit in the results (bench/git_commit.cmake).
package_table='
build    cmake                   =
build    ninja-build             =
build    g++                     =
build    pkg-config              =
build    git                     =
build    libopenblas-dev         =
build    libcli11-dev            =
build    nlohmann-json3-dev      =
build    libstb-dev              =
build    libturbojpeg0-dev       =
build    libjpeg62-turbo-dev     libjpeg-turbo8-dev
build    libbenchmark-dev        =
build    python3                 =
build    python3-pip             =
tests    libgtest-dev            =
tests    python3-torchvision     -
tests    python3-numpy           =
tests    python-matplotlib-data  =
tests    python3-matplotlib      =
runtime  libopenblas0-pthread    =
runtime  libgomp1                =
runtime  libstdc++6              =
runtime  libgcc-s1               =
runtime  libturbojpeg0           libturbojpeg
runtime  libjpeg62-turbo         libjpeg-turbo8
runtime  libbenchmark1debian     libbenchmark1.8.3
fuzz     clang                   =
fuzz     libclang-rt-dev         =
fuzz     cmake                   =
fuzz     ninja-build             =
fuzz     libstb-dev              =
fuzz     nlohmann-json3-dev      =
fuzz     libturbojpeg0-dev       =
fuzz     libjpeg62-turbo-dev     libjpeg-turbo8-dev
'

base=build
extras=()
print=false
distro=
while (($#)); do
  case "$1" in
    --tests) extras+=(tests) ;;
    --runtime) base=runtime ;;
    --fuzz) base=fuzz ;;
    --print) print=true ;;
    --distro)
      [[ $# -ge 2 ]] || { echo "error: --distro needs a name: debian or ubuntu" >&2; exit 2; }
      distro=$2
      shift ;;
    *) echo "error: unknown option '$1' (the usage is at the top of $0)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$distro" ]]; then
  distro=debian
  if [[ -r /etc/os-release ]] && grep -q '^ID=ubuntu' /etc/os-release; then distro=ubuntu; fi
fi
if [[ "$distro" != debian && "$distro" != ubuntu ]]; then
  echo "error: --distro '$distro': debian or ubuntu" >&2
  exit 2
fi

selected=" $base ${extras[*]} "
packages=()
while read -r option debian ubuntu; do
  [[ -n "$option" && "$selected" == *" $option "* ]] || continue
  name=$debian
  if [[ "$distro" == ubuntu && "$ubuntu" != "=" ]]; then name=$ubuntu; fi
  if [[ "$name" == - ]]; then
    echo "note: $debian is not packaged for $distro: install it another way (e.g. pip)" >&2
  else
    packages+=("$name")
  fi
done <<<"$package_table"

if $print; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "error: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# cudnn-frontend, cuDNN's graph API in C++ (src/ops/cuda/cudnn_graph.cpp), is header-only and only on
# PyPI: its wheel, pinned by version and by the hash of the file that --python-version and
# --platform name (every wheel of a release holds the same headers), of which include/ and the
# licenses are unpacked into .deps/cudnn_frontend, where cmake/Dependencies.cmake looks. pip only
# downloads; nothing is installed into a Python environment. VERSION there says what is unpacked.
cudnn_frontend_version=1.32.0
cudnn_frontend_sha256=c6006556017a4d1c914c52a556c71b1267f2d6a0500f742e7b4edef539878df0
fetch_cudnn_frontend() {
  local target download wheel
  target="$(cd "$(dirname "$0")/.." && pwd)/.deps/cudnn_frontend"
  [[ "$(cat "$target/VERSION" 2>/dev/null)" != "$cudnn_frontend_version" ]] || return 0
  echo "fetching cudnn-frontend $cudnn_frontend_version's headers into $target"
  download=$(mktemp -d)
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.11 --platform manylinux_2_28_x86_64 --dest "$download" \
    "nvidia-cudnn-frontend==$cudnn_frontend_version"
  wheel=$(echo "$download"/nvidia_cudnn_frontend-*.whl)
  if ! echo "$cudnn_frontend_sha256  $wheel" | sha256sum --check --quiet; then
    echo "error: $wheel is not the file this script was written for (its sha256 differs)" >&2
    rm -rf "$download"
    return 1
  fi
  rm -rf "$target"
  python3 - "$wheel" "$target" <<'EOF'
import os, sys, zipfile

wheel, target = sys.argv[1:]
with zipfile.ZipFile(wheel) as archive:
    for member in archive.infolist():
        parts = member.filename.split("/")
        if parts[0] == "include":
            path = parts
        elif len(parts) > 2 and parts[0].endswith(".dist-info") and parts[1] == "licenses":
            path = parts[1:]
        else:
            continue
        if member.is_dir() or ".." in parts:
            continue
        out = os.path.join(target, *path)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with archive.open(member) as source, open(out, "wb") as copy:
            copy.write(source.read())
EOF
  echo "$cudnn_frontend_version" >"$target/VERSION"
  rm -rf "$download"
}
if [[ "$base" == build ]]; then fetch_cudnn_frontend; fi

if [[ "$base" == build ]] && ! command -v nvcc >/dev/null && [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
  echo "error: no CUDA toolkit (nvcc): install it (e.g. under /usr/local/cuda) and run again" >&2
  exit 1
fi
