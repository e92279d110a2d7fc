# bench_resnet50 in a container:
#   docker build -t resnet50-bench .
#   docker run --gpus all --rm resnet50-bench                      # synthetic data
#   docker run --gpus all --rm -v /path/to/food-101:/data resnet50-bench --dataset food101 --data-dir /data
# The CUDA version of the base image sets the minimum NVIDIA driver (CUDA 13.0: driver 580 or newer);
# pick another base with --build-arg CUDA_IMAGE=... for older drivers.
ARG CUDA_IMAGE=nvidia/cuda:13.0.0-cudnn-devel-ubuntu24.04
FROM ${CUDA_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY . .
RUN scripts/install_deps.sh \
 && cmake --preset release \
 && cmake --build --preset release -j "$(nproc)" --target bench_resnet50 resnet50_verify \
 && rm -rf /var/lib/apt/lists/*

ENTRYPOINT ["/src/build/release/bench/bench_resnet50"]
