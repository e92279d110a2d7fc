#!/usr/bin/env bash
# usage: scripts/device_check.sh OUTDIR [--perf] [--build-dir DIR] [--only PHASE,...]
# Verifies a GPU machine, ours or a user's.
#   quick tier (the default): finds CUDA, cuDNN and cuBLAS (a system install, or the copies inside
#     a PyTorch Python environment), builds for this GPU only (or uses --build-dir, a build made
#     elsewhere), runs every GPU test with R50_REQUIRE_GPU=1 (a skip is a failure) and
#     compute-sanitizer memcheck over the kernel tests.
#   --perf adds compute-sanitizer racecheck and initcheck over the kernel tests, bench_resnet50
#     (batch 64, 224x224: fp32 with --profile-layers; tf32, tf32 --unfused and tf32 --cuda-graph;
#     bf16, fp16 and fp16 --cuda-graph; tf32 and bf16 --channels-last, on cuDNN's legacy and graph
#     APIs; bf16 --channels-last --cuda-graph; fp16 --channels-last on both APIs; each
#     precision's fastest, --channels-last --cudnn-api graph --cuda-graph) on synthetic data, with
#     no arguments, and end to end over a Food-101-layout fixture (fp32 and tf32), bench_layers'
#     memory-bound ops (tf32) and every layer op of the fastest configuration (bf16),
#     the kernel variants of dev/cuda, and the PyTorch peer on the same GPU at each precision
#     (tf32 also channels_last; bf16 and fp16 AMP channels_last), with the ratios.
# --only runs just the phases it names (and `machine`), --perf ones included, e.g. on a build a
# first call made: --build-dir build/device --only bench_bf16,peer,ratios. A name that is not a
# phase of the run fails it.
# Each phase has its own timeout. Logs and JSON go to OUTDIR, the table to OUTDIR/summary.md and
# stdout. Exit status: 0 only when every phase passed. Works where only CUDA, cuDNN, cuBLAS, CMake
# and a compiler exist: run scripts/vendor_deps.sh elsewhere and bring its .deps folder.
set -uo pipefail
usage="usage: scripts/device_check.sh OUTDIR [--perf] [--build-dir DIR] [--only PHASE,...]"
out=${1:?$usage}
shift
perf=0
build=build/device
prebuilt=0
only=""
while (($#)); do
  case $1 in
    --perf) perf=1 ;;
    --build-dir) build=${2:?$usage}; prebuilt=1; shift ;;
    --only) only=",${2:?$usage},"; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/ratios.log"  # an earlier run's table is not this one's
# --only may name any phase, the --perf ones included.
[[ -z $only ]] || perf=1
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"
rows=()
failed=0
named=""  # the phases that ran

phase() {  # phase NAME TIMEOUT_SECONDS COMMAND...
  local name=$1 limit=$2 start status rc=0 pid
  shift 2
  [[ -z $only || $name == machine || $only == *",$name,"* ]] || return 0
  named+=",$name,"
  start=$(date +%s)
  echo "== $name"
  # bash -c, so that a phase can be one of the functions below (exported with export -f). timeout
  # leads a process group of its own and signals it once; whatever outlived that is killed.
  timeout "$limit" bash -c '"$@"' "$name" "$@" >"$out/$name.log" 2>&1 &
  pid=$!
  wait "$pid" || rc=$?
  kill -KILL -- "-$pid" 2>/dev/null
  if ((rc == 0)); then
    status=pass
  else
    status="FAIL (exit $rc)"
    ((rc == 124)) && status="TIMEOUT after ${limit}s"
    failed=1
    tail -n 40 "$out/$name.log"
  fi
  rows+=("| $name | $status | $(($(date +%s) - start)) s |")
  write_summary >/dev/null
}

# The table so far, into OUTDIR/summary.md (rewritten after every phase, so that a run cut short
# still leaves one) and stdout.
write_summary() {
  {
    echo "| phase | result | time |"
    echo "| --- | --- | --- |"
    printf '%s\n' "${rows[@]}"
    if [[ -s "$out/ratios.log" ]]; then
      echo
      cat "$out/ratios.log"
    fi
  } | tee "$out/summary.md"
}

# The first file named $1 inside the Python environment's NVIDIA packages (pip's nvidia-* wheels).
python_nvidia_file() {
  local base
  base=$(python3 -c 'import nvidia, os; print(list(nvidia.__path__)[0])' 2>/dev/null) || return 0
  find "$base" -name "$1" -print -quit 2>/dev/null
}

# cuDNN, NVRTC and cuBLAS where CUDA has none: the copies PyTorch uses. Sets cmake_options and the
# library path that cuDNN's own sub-libraries are loaded from.
cmake_options=()
find_libraries() {
  local header library
  if ! compgen -G "/usr/local/cuda/include/cudnn.h" >/dev/null && ! compgen -G "/usr/include/cudnn.h" >/dev/null &&
     ! compgen -G "/usr/include/*/cudnn.h" >/dev/null; then
    header=$(python_nvidia_file cudnn.h)
    library=$(python_nvidia_file 'libcudnn.so.9')
    [[ -n $header ]] && cmake_options+=(-DR50_CUDNN_INCLUDE_DIR="$(dirname "$header")")
    [[ -n $library ]] && cmake_options+=(-DR50_CUDNN_LIBRARY="$library")
    [[ -n $library ]] && LD_LIBRARY_PATH="$(dirname "$library")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  # NVRTC, which cudnn-frontend's headers call (cmake/Dependencies.cmake).
  if ! compgen -G "/usr/local/cuda/lib64/libnvrtc.so*" >/dev/null && ! compgen -G "/usr/lib/*/libnvrtc.so*" >/dev/null; then
    library=$(python_nvidia_file 'libnvrtc.so.*[0-9]')
    if [[ -n $library ]]; then
      cmake_options+=(-DR50_NVRTC_LIBRARY="$library")
      LD_LIBRARY_PATH="$(dirname "$library")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
  fi
  if ! compgen -G "/usr/local/cuda/lib64/libcublas.so*" >/dev/null && ! compgen -G "/usr/lib/*/libcublas.so*" >/dev/null; then
    library=$(python_nvidia_file 'libcublas.so.*[0-9]')
    if [[ -n $library ]]; then
      cmake_options+=(-DR50_CUBLAS_ROOT="$(dirname "$(dirname "$library")")")
      LD_LIBRARY_PATH="$(dirname "$library")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
  fi
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"
}
find_libraries

machine() {
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv || return 1
  nvcc --version | tail -n 2 || return 1
  echo "cores: $(nproc)"
  echo "cmake options found: ${cmake_options_text:-none}"
  echo "LD_LIBRARY_PATH: ${LD_LIBRARY_PATH:-}"
}

configure() {
  local options=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=native "$@")
  # Machines without Debian's -dev packages: the vendored copies (scripts/vendor_deps.sh), and
  # the plain GEMM.
  [[ ! -d .deps ]] || options+=(-DR50_DEPS_DIR="$PWD/.deps")
  compgen -G "/usr/include/*/cblas.h" >/dev/null || compgen -G "/usr/include/cblas.h" >/dev/null ||
    options+=(-DR50_WITH_OPENBLAS=OFF)
  cmake -S . -B "$build" "${options[@]}"
}

gpu_tests() {
  R50_REQUIRE_GPU=1 ctest --test-dir "$build" -L gpu --output-on-failure --no-tests=error -j "$(nproc)" || return 1
  # A skipped test passes in ctest's eyes; here it is a failure.
  ! grep -E "\*\*\*Skipped|Not Run" "$out/gpu_tests.log"
}

# Our kernels under memcheck: the kernel tests, and the backend comparison's rows that run them
# (cuDNN's and cuBLAS's own kernels are left to their makers: they would take minutes here).
kernel_tests_under() {  # kernel_tests_under SANITIZER_ARGUMENTS...
  compute-sanitizer "$@" --error-exitcode 1 "$build/tests/kernels_test" || return 1
  R50_REQUIRE_GPU=1 compute-sanitizer "$@" --error-exitcode 1 "$build/tests/backends_test" \
    --gtest_filter='-*Conv*:*Linear*:*Train*:*Timing*'
}

memcheck() { kernel_tests_under --tool memcheck --leak-check full; }

# --perf: shared-memory races (the reductions of batch norm, pooling and the loss) and reads of
# device memory nothing wrote.
racecheck() { kernel_tests_under --tool racecheck; }
initcheck() { kernel_tests_under --tool initcheck; }

# bench_resnet50 on the GPU at batch 64, 224x224, 5 warm-up and 20 measured steps, with the
# arguments given, its results in OUTDIR/NAME.json: run_bench NAME ARGUMENTS...
run_bench() {
  local name=$1
  shift
  "$build/bench/bench_resnet50" --device cuda --batch-size 64 --image-size 224 --warmup 5 --steps 20 "$@" \
    --out "$out/$name.json"
}

bench() { run_bench bench_resnet50 --profile-layers; }
bench_tf32() { run_bench bench_resnet50_tf32 --precision tf32; }
# The same, the training step captured once as a CUDA graph and replayed: what launch overhead costs.
bench_tf32_graph() { run_bench bench_resnet50_tf32_graph --precision tf32 --cuda-graph; }
# The same with batch norm, the residual sum and ReLU as separate kernels: what the fused ones save.
bench_tf32_unfused() { run_bench bench_resnet50_tf32_unfused --precision tf32 --unfused; }
# Mixed precision: half-precision activations from fp32 master weights (fp16 with loss scaling).
bench_bf16() { run_bench bench_resnet50_bf16 --precision bf16; }
bench_fp16() { run_bench bench_resnet50_fp16 --precision fp16; }
# fp16 captured as a CUDA graph: its loss scale, overflow test and skip all run on the device.
bench_fp16_graph() { run_bench bench_resnet50_fp16_graph --precision fp16 --cuda-graph; }
# The fastest configuration built: bf16, channels-last, one graph replay a step.
bench_bf16_channels_last_graph() {
  run_bench bench_resnet50_bf16_channels_last_graph --precision bf16 --channels-last --cuda-graph
}
# Channels-last activations, the layout PyTorch's fastest peer runs.
bench_tf32_channels_last() { run_bench bench_resnet50_tf32_channels_last --precision tf32 --channels-last; }
bench_bf16_channels_last() { run_bench bench_resnet50_bf16_channels_last --precision bf16 --channels-last; }
# The same two with the convolutions on cuDNN's graph API, against the legacy API's runs above.
bench_tf32_channels_last_cudnn_graph() {
  run_bench bench_resnet50_tf32_channels_last_cudnn_graph --precision tf32 --channels-last --cudnn-api graph
}
bench_bf16_channels_last_cudnn_graph() {
  run_bench bench_resnet50_bf16_channels_last_cudnn_graph --precision bf16 --channels-last --cudnn-api graph
}
# fp16 channels-last on each API.
bench_fp16_channels_last() { run_bench bench_resnet50_fp16_channels_last --precision fp16 --channels-last; }
bench_fp16_channels_last_cudnn_graph() {
  run_bench bench_resnet50_fp16_channels_last_cudnn_graph --precision fp16 --channels-last --cudnn-api graph
}
# The fastest configuration of each precision: channels-last, the graph API, one CUDA graph a step.
fastest() {  # fastest PRECISION
  run_bench "bench_resnet50_$1_fastest" --precision "$1" --channels-last --cudnn-api graph --cuda-graph
}
bench_tf32_fastest() { fastest tf32; }
bench_bf16_fastest() { fastest bf16; }
bench_fp16_fastest() { fastest fp16; }
# What a user sees first: bench_resnet50 with no arguments at all.
bench_default() { "$build/bench/bench_resnet50"; }

# A Food-101-layout fixture made from a photograph (Debian's or pip's matplotlib, or the copy
# scripts/vendor_deps.sh keeps), once per build folder.
food101_fixture() {
  [[ ! -f $build/food101_fixture/meta/train.txt ]] || return 0
  local photo=/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg
  [[ -f $photo ]] || photo=$(python3 -c 'import matplotlib, os
print(os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg"))' 2>/dev/null)
  [[ -f $photo ]] || photo=.deps/photos/grace_hopper.jpg
  "$build/src/make_food101_fixture" --out "$build/food101_fixture" --classes 10 --images 64 --source "$photo"
}

# End to end over the fixture: loader, upload on the copy stream, compute.
bench_food101() { food101_fixture && run_bench bench_food101 --dataset food101 --data-dir "$build/food101_fixture"; }

# The same in tf32, which needs the loader to deliver some 2,000 images/s on an H100.
bench_food101_tf32() {
  food101_fixture &&
    run_bench bench_food101_tf32 --precision tf32 --dataset food101 --data-dir "$build/food101_fixture"
}

# Each of the five runs, whether or not one before it failed.
peer() {
  local common=(--device cuda --batch-size 64 --image-size 224 --warmup 5 --steps 20) rc=0
  python3 scripts/peer_pytorch.py "${common[@]}" --json "$out/peer_pytorch.json" || rc=1
  python3 scripts/peer_pytorch.py "${common[@]}" --precision tf32 --json "$out/peer_pytorch_tf32.json" || rc=1
  python3 scripts/peer_pytorch.py "${common[@]}" --precision tf32 --channels-last \
    --json "$out/peer_pytorch_tf32_channels_last.json" || rc=1
  python3 scripts/peer_pytorch.py "${common[@]}" --precision bf16 --channels-last \
    --json "$out/peer_pytorch_bf16_channels_last.json" || rc=1
  python3 scripts/peer_pytorch.py "${common[@]}" --precision fp16 --channels-last \
    --json "$out/peer_pytorch_fp16_channels_last.json" || rc=1
  return $rc
}

# Our memory-bound kernels against the card's bandwidth (bench_layers; its convolutions take
# minutes, so they are left out here).
layers_memory_bound() {
  "$build/bench/bench_layers" --device cuda --precision tf32 --benchmark_filter='batch_norm|max_pool|avg_pool|relu|add' \
    --benchmark_out="$out/bench_layers_memory_bound.json" --benchmark_out_format=json
}

# Every layer op of the fastest configuration (bf16, channels-last, the graph API) against this card's
# bf16 roofline: the per-layer figures behind its step.
layers_fastest() {
  "$build/bench/bench_layers" --device cuda --precision bf16 --channels-last --cudnn-api graph \
    --benchmark_out="$out/bench_layers_bf16_fastest.json" --benchmark_out_format=json
}

# The kernel harnesses of dev/cuda: each variant checked against the CPU backend, then timed.
dev_kernels() { R50_REQUIRE_GPU=1 "$build/dev/dev_max_pool2d_backward"; }

# One row per program and precision, and ours over PyTorch's at the same precision.
ratios() {
  python3 - "$out" <<'EOF'
import json, os, sys
out = sys.argv[1]
def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None
def gib(value):
    return "%.2f GiB" % (value / 2**30) if value else "-"
# Ours are timed on the device (CUDA events), the peer by the host's clock: the ratio takes ours by
# the host's clock too (wall_ms_per_step, the same steps), where the run reports it.
def wall_images_per_second(run):
    wall = run.get("wall_ms_per_step")
    return run["images_per_second"] * run["ms_per_step"] / wall if wall else run["images_per_second"]
print("| program | precision | images/s | ms per step | peak memory | ours / this (host clock) |")
print("| --- | --- | --- | --- | --- | --- |")
tf32_peers = ["peer_pytorch_tf32.json", "peer_pytorch_tf32_channels_last.json"]
for program, precision, ours, peers in [
        ("bench_resnet50", "fp32", load("bench_resnet50.json"), ["peer_pytorch.json"]),
        ("bench_resnet50", "tf32", load("bench_resnet50_tf32.json"), tf32_peers),
        ("bench_resnet50 --unfused", "tf32", load("bench_resnet50_tf32_unfused.json"), tf32_peers),
        ("bench_resnet50 --cuda-graph", "tf32", load("bench_resnet50_tf32_graph.json"), tf32_peers),
        ("bench_resnet50 --channels-last", "tf32", load("bench_resnet50_tf32_channels_last.json"), tf32_peers),
        ("bench_resnet50 --channels-last --cudnn-api graph", "tf32",
         load("bench_resnet50_tf32_channels_last_cudnn_graph.json"), tf32_peers),
        ("bench_resnet50, Food-101 end to end", "tf32", load("bench_food101_tf32.json"), tf32_peers),
        ("bench_resnet50", "bf16", load("bench_resnet50_bf16.json"), ["peer_pytorch_bf16_channels_last.json"]),
        ("bench_resnet50 --channels-last", "bf16", load("bench_resnet50_bf16_channels_last.json"),
         ["peer_pytorch_bf16_channels_last.json"]),
        ("bench_resnet50 --channels-last --cudnn-api graph", "bf16",
         load("bench_resnet50_bf16_channels_last_cudnn_graph.json"), ["peer_pytorch_bf16_channels_last.json"]),
        ("bench_resnet50 --channels-last --cuda-graph", "bf16", load("bench_resnet50_bf16_channels_last_graph.json"),
         ["peer_pytorch_bf16_channels_last.json"]),
        ("bench_resnet50", "fp16", load("bench_resnet50_fp16.json"), ["peer_pytorch_fp16_channels_last.json"]),
        ("bench_resnet50 --cuda-graph", "fp16", load("bench_resnet50_fp16_graph.json"),
         ["peer_pytorch_fp16_channels_last.json"]),
        ("bench_resnet50 --channels-last", "fp16", load("bench_resnet50_fp16_channels_last.json"),
         ["peer_pytorch_fp16_channels_last.json"]),
        ("bench_resnet50 --channels-last --cudnn-api graph", "fp16",
         load("bench_resnet50_fp16_channels_last_cudnn_graph.json"), ["peer_pytorch_fp16_channels_last.json"])] + [
        ("bench_resnet50 --channels-last --cudnn-api graph --cuda-graph", precision,
         load("bench_resnet50_%s_fastest.json" % precision), ["peer_pytorch_%s_channels_last.json" % precision])
        for precision in ("tf32", "bf16", "fp16")]:
    # Where the plain run of ours is missing or failed, PyTorch's figure stands alone, the one to beat.
    mine = ours["benchmarks"][0] if ours and ours.get("benchmarks") else None
    if mine and mine.get("error_occurred"):
        print("| %s | %s | failed: %s | | | |" % (program, precision, mine.get("error_message", "?")))
        mine = None
    elif mine:
        print("| %s | %s | %.1f | %.1f | %s | |" % (program, precision, mine["images_per_second"],
                                                  mine["ms_per_step"], gib(mine.get("peak_allocated_bytes"))))
    if mine is None and program != "bench_resnet50":
        continue
    for peer in filter(None, map(load, peers)):
        print("| PyTorch %s eager, %s | %s | %.1f | %.1f | %s | %s |" % (
            peer["torch"], peer.get("memory_format", "contiguous"), precision, peer["images_per_second"],
            peer["ms_per_step"], gib(peer.get("peak_allocated_bytes")),
            "%.2f" % (wall_images_per_second(mine) / peer["images_per_second"]) if mine else "-"))
EOF
}

export build out cmake_options_text="${cmake_options[*]}"
export -f machine configure gpu_tests kernel_tests_under memcheck racecheck initcheck run_bench bench bench_tf32 \
  bench_tf32_unfused bench_tf32_graph bench_bf16 bench_fp16 bench_fp16_graph bench_tf32_channels_last \
  bench_bf16_channels_last bench_bf16_channels_last_graph bench_tf32_channels_last_cudnn_graph \
  bench_bf16_channels_last_cudnn_graph bench_fp16_channels_last bench_fp16_channels_last_cudnn_graph fastest \
  bench_tf32_fastest bench_bf16_fastest bench_fp16_fastest bench_default food101_fixture bench_food101 \
  bench_food101_tf32 layers_memory_bound layers_fastest dev_kernels peer ratios
phase machine 60 machine
if ((!prebuilt)); then
  phase configure 180 configure "${cmake_options[@]}"
  phase build 600 cmake --build "$build" -j "$(nproc)"
fi
phase gpu_tests 300 gpu_tests
phase memcheck 300 memcheck
if ((perf)); then
  phase racecheck 300 racecheck
  phase initcheck 300 initcheck
  phase bench 180 bench
  phase bench_tf32 180 bench_tf32
  phase bench_tf32_unfused 180 bench_tf32_unfused
  phase bench_tf32_graph 180 bench_tf32_graph
  phase bench_bf16 180 bench_bf16
  phase bench_fp16 180 bench_fp16
  phase bench_fp16_graph 180 bench_fp16_graph
  phase bench_tf32_channels_last 180 bench_tf32_channels_last
  phase bench_bf16_channels_last 180 bench_bf16_channels_last
  phase bench_bf16_channels_last_graph 180 bench_bf16_channels_last_graph
  phase bench_tf32_channels_last_cudnn_graph 180 bench_tf32_channels_last_cudnn_graph
  phase bench_bf16_channels_last_cudnn_graph 180 bench_bf16_channels_last_cudnn_graph
  phase bench_fp16_channels_last 180 bench_fp16_channels_last
  phase bench_fp16_channels_last_cudnn_graph 180 bench_fp16_channels_last_cudnn_graph
  phase bench_tf32_fastest 180 bench_tf32_fastest
  phase bench_bf16_fastest 180 bench_bf16_fastest
  phase bench_fp16_fastest 180 bench_fp16_fastest
  phase bench_default 120 bench_default
  phase bench_food101 180 bench_food101
  phase bench_food101_tf32 180 bench_food101_tf32
  phase layers_memory_bound 180 layers_memory_bound
  phase layers_fastest 300 layers_fastest
  phase dev_kernels 120 dev_kernels
  phase peer 240 peer
  phase ratios 30 ratios
fi

# A name in --only that no phase has: a typo, not a pass.
IFS=, read -ra wanted <<<"$only"
for name in ${wanted[@]+"${wanted[@]}"}; do
  [[ -z $name || $named == *",$name,"* ]] && continue
  rows+=("| $name | FAIL (not a phase of this run) | 0 s |")
  failed=1
done
write_summary
exit $failed
