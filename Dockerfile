# usage: docker build -t resnet50-bench .
#        docker run --gpus all --rm resnet50-bench [bench_resnet50 arguments...]
# bench_resnet50 in a container (the README's Docker section). The builder runs the README's build,
# scripts/build_release.sh (the build half of scripts/bench.sh), so the image is built as a user's
# checkout is; tests/scripts/dockerfile_test.py checks that, and the rest, without a Docker engine.
# The image keeps only the programs, the shared libraries they load (scripts/install_deps.sh
# --runtime, the same list as the build's) and CUDA's runtime, cuBLAS and cuDNN from its base.
# The CUDA version sets the oldest NVIDIA driver that runs the image: 13.0 needs R580 (580.65.06 or
# newer); for an older driver, --build-arg CUDA_VERSION=<a release it supports>.
ARG CUDA_VERSION=13.0.0

FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-ubuntu24.04 AS builder
WORKDIR /src
# With .git (see .dockerignore): the build records its commit in the results' context.
COPY . .
RUN scripts/build_release.sh bench_resnet50 resnet50_verify

FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-ubuntu24.04
COPY scripts/install_deps.sh /tmp/
RUN /tmp/install_deps.sh --runtime && rm -rf /var/lib/apt/lists/* /tmp/install_deps.sh
COPY --from=builder /src/build/release/bench/bench_resnet50 /src/build/release/src/resnet50_verify /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/bench_resnet50"]
