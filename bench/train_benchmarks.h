// defines: BenchOptions, Stop, Measurement, SyntheticBatch, make_synthetic_batch, train_step_synthetic,
//          epoch_food101, profile_layers_synthetic
#pragma once

#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>

#include "data/loader.h"
#include "memory/allocator.h"
#include "ops/backend.h"
#include "ops/cuda/gpu_clocks.h"
#include "train/evaluate.h"
#include "train/layer_profile.h"

namespace r50 {

// bench_resnet50's command line (DESIGN.md's table), after its defaults are settled.
struct BenchOptions {
  std::string dataset = "synthetic";
  std::string data_dir;
  int workers = 0;
  int epochs = 0;
  bool strict = false;
  std::string device = "auto";
  int gpu = 0;
  int batch_size = 0;  // 0: the device's default
  int image_size = 224;
  int steps = 0;       // 0: the device's default
  int warmup = 2;
  int repetitions = 1;
  std::string out;  // --out FILE.json; empty: none
  int threads = 0;
  bool cudnn_benchmark = false;
  std::string gpu_memory_limit;  // empty: none
  bool find_max_batch = false;
  bool profile_layers = false;
  bool eval = false;
  int classes = 101;
  std::uint64_t seed = 0;
  float lr = 0.0f;  // 0: 0.1·batch/256, the linear scaling rule from batch 256 at 0.1
  std::string precision = "fp32";
  bool cuda_graph = false;  // each training step after the warm-up one replay of a CUDA graph
  bool unfused = false;     // batch norm, the residual sum and ReLU as separate ops: the fused kernels' baseline
  bool channels_last = false;  // activations and convolution weights NHWC (ResNet50's layout)
  std::string cudnn_api = "legacy";  // --cudnn-api: legacy or graph (ops/cudnn_api.h)
};

// Why a measurement ended before its end, if it did. Each has its exit status (README, "Exit
// status"): what the run had measured before it is still reported and written.
enum class Stop { None, OutOfMemory, Diverged, Interrupted };

// What the report needs beyond the counters, from the last measurement.
struct Measurement {
  Stop stop = Stop::None;
  std::string stop_message;  // for a person, when stop is not None
  AllocatorStats memory;
  GpuClocks clocks;      // read as the measured steps ended, on a GPU
  bool food101 = false;  // an end-to-end run: the loader's figures below mean something
  LoaderStats loader;
  double data_wait_fraction = 0;
  std::int64_t batches_passed_over = 0;
  bool evaluated = false;  // --eval: the test split's figures below
  EvalResult eval;
  LoaderStats eval_loader;
};

// A batch of random normalised images and random labels, made on the host from `seed` and copied
// to the backend's device, where it stays: compute alone, with no input path.
struct SyntheticBatch {
  OwnedTensor images;  // F32 [batch, 3, size, size], in the layout asked for
  OwnedTensor labels;  // I32 [batch], below `classes`
};
SyntheticBatch make_synthetic_batch(Backend& backend, int batch, int size, int classes, std::uint64_t seed,
                                    Layout layout = Layout::RowMajor);

// --profile-layers: `steps` training steps on a synthetic batch with every layer timed on the
// device (train/layer_profile.h), after the measurement and apart from it.
LayerProfile profile_layers_synthetic(Backend& backend, const BenchOptions& options, int steps);

// Both benchmarks end their measurement early, marking it with Google Benchmark's SkipWithError
// and setting `stop`, on OutOfMemory, on a loss that is not finite (LossWatch) and when a signal
// asks the run to stop (InterruptWatch, checked between steps); later repetitions then return at
// once.
//
// Training steps (forward, loss, backward, SGD) on one synthetic batch that stays on the device,
// so the figure is compute alone, timed on the device (CUDA events on a GPU): Google Benchmark's
// manual time is the steps' device time. Counters: DESIGN.md's, plus forward_ms, backward_ms and
// optimizer_ms per step (under --cuda-graph, where a step is one graph that no mark can split,
// graph_step_ms, the whole step, instead), wall_ms_per_step (the host's clock over the same steps: above ms_per_step
// when the host cannot launch work as fast as the device runs it), and on a GPU sm_clock_mhz and
// power_watts as the last steps ran, where NVML answers.
void train_step_synthetic(benchmark::State& state, Backend* backend, const BenchOptions* options,
                          Measurement* measurement);

// Training over Food-101 end to end; one Google Benchmark iteration is the whole measured run,
// timed by the host's clock (the measured steps alone). Beyond DESIGN.md's counters: the phases
// per step, data_wait_ms (host), copy_ms (the copy stream, overlapped with the compute), and
// forward_ms, backward_ms and optimizer_ms (device).
void epoch_food101(benchmark::State& state, Backend* backend, const BenchOptions* options,
                   Measurement* measurement);

}  // namespace r50
