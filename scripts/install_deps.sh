#!/usr/bin/env bash
# usage: scripts/install_deps.sh [--tests]
# Installs the Debian packages the build needs that are missing (apt-get, as root or through sudo);
# --tests adds, for the test suite, GoogleTest, torchvision, matplotlib's sample photograph
# (python-matplotlib-data), from which make_food101_fixture crops its images, and matplotlib itself
# (python3-matplotlib), with which compare_results.py --png draws its chart. The CUDA toolkit
# (nvcc, cuDNN, cuBLAS) is not a Debian package here: it must already be installed, e.g. under
# /usr/local/cuda.
set -euo pipefail

# libjpeg-turbo's libjpeg API (crop decoding) is libjpeg62-turbo-dev on Debian, libjpeg-turbo8-dev
# on Ubuntu (the Dockerfile's base).
jpeg_dev=libjpeg62-turbo-dev
if [[ -r /etc/os-release ]] && grep -q '^ID=ubuntu' /etc/os-release; then jpeg_dev=libjpeg-turbo8-dev; fi
packages=(cmake ninja-build g++ pkg-config libopenblas-dev libcli11-dev nlohmann-json3-dev libstb-dev
          libturbojpeg0-dev "$jpeg_dev" libbenchmark-dev python3)
if [[ "${1:-}" == "--tests" ]]; then
  packages+=(libgtest-dev python3-torchvision python3-numpy python-matplotlib-data python3-matplotlib)
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

if ! command -v nvcc >/dev/null && [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
  echo "error: no CUDA toolkit (nvcc): install it (e.g. under /usr/local/cuda) and run again" >&2
  exit 1
fi
