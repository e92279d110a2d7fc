// defines: PeakSizes, default_peak_sizes, measure_peaks, LayerResult, layer_benchmark,
//          matrix_peak_benchmark, bandwidth_peak_benchmark
#pragma once

#include <cstddef>
#include <string>

#include <benchmark/benchmark.h>

#include "layer_costs.h"
#include "layer_shapes.h"
#include "ops/backend.h"

namespace r50 {

// The work that measures a card's peaks: an n×n×n matrix product through the backend's fully
// connected layer (cuBLAS on a GPU, in the run's precision) on `matrix_dtype` operands (F32: an
// SGEMM; F16 or BF16, as the layers' tensors are under mixed precision), and a device-to-device
// copy of `copy_bytes`.
struct PeakSizes {
  int matrix = 8192;
  std::size_t copy_bytes = std::size_t(1) << 30;
  DType matrix_dtype = DType::F32;
};
// Sizes that fill a GPU for tens of milliseconds; on the CPU backend, sizes that take about as long
// there (1024 and 256 MiB).
PeakSizes default_peak_sizes(const Backend& backend);

// The best of `runs` timed runs of each (after one unmeasured run): the rate this card can reach.
DevicePeaks measure_peaks(Backend& backend, const PeakSizes& sizes, int runs = 5);

// One layer benchmark's outcome, for the summary: the last measurement Google Benchmark made of it.
struct LayerResult {
  std::string name;  // "conv_forward/C64_H56_K256_R1_S1_stride1_pad0"
  LayerShape layer;
  bool measured = false;
  double ms_per_call = 0;
  double roofline_ms = 0;  // per call

  double ms_per_step() const { return ms_per_call * layer.calls_per_step; }
  double fraction_of_roofline() const { return ms_per_call > 0 ? roofline_ms / ms_per_call : 0; }
};

// Each iteration is one call of the op, timed on the device (Backend::Timer: CUDA events on a GPU);
// Google Benchmark's manual time is that device time. The next call is enqueued before the last is
// read, so the device never waits for the host between two calls. Counters: tflops (convolutions)
// or gb_per_s (the rest, from layer_min_bytes), fraction_of_peak (the roofline's time over the
// measured time), calls_per_step and ms_per_step. Fills `result` when done.
void layer_benchmark(benchmark::State& state, Backend* backend, const LayerShape* layer, const DevicePeaks* peaks,
                     LayerResult* result);

// The peaks' own work as benchmarks, with tflops or gb_per_s and fraction_of_peak (of the best
// run measured at start-up).
void matrix_peak_benchmark(benchmark::State& state, Backend* backend, const PeakSizes* sizes,
                           const DevicePeaks* peaks);
void bandwidth_peak_benchmark(benchmark::State& state, Backend* backend, const PeakSizes* sizes,
                              const DevicePeaks* peaks);

// How many of the benchmarks above have failed so far: each is marked failed in the report with
// its error, and the others still run.
int failed_layer_benchmarks();

}  // namespace r50
