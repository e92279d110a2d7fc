// bench_layers: every layer op of a ResNet-50 training step on its own, against this card's
// roofline. The distinct convolution shapes (forward, backward-data, backward-filter) and the
// batch-norm, ReLU, add and pooling calls come from the model itself (layer_shapes.h); the card's
// matrix rate and memory bandwidth are measured at start-up (layer_benchmarks.h); each benchmark
// reports TFLOP/s or GB/s and its fraction of the roofline, and a table at the end names the ops
// that lose the most time per step against it. Flags starting with --benchmark_ go to Google
// Benchmark (--benchmark_filter=conv_backward_filter, --benchmark_out=FILE.json, ...).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <benchmark/benchmark.h>

#include "command_line.h"
#include "git_commit.h"

#include "layer_benchmarks.h"
#include "layer_shapes.h"
#include "layer_summary.h"
#include "ops/select_backend.h"
#include "report/run_context.h"
#include "results_reporter.h"

namespace {

struct Options {
  std::string device = "auto";
  int gpu = 0;
  std::string precision = "fp32";
  int batch_size = 0;  // 0: 64 on a GPU, 2 on the CPU
  int image_size = 0;  // 0: 224 on a GPU, 64 on the CPU
  int threads = 0;
  bool cudnn_benchmark = false;
  std::string cudnn_api = "legacy";
  int peak_matrix_size = 0;  // 0: the device's default (layer_benchmarks.h)
  int peak_copy_mib = 0;
  int summary_rows = 10;
  bool unfused = false;
  bool channels_last = false;
};

// On the CPU backend a benchmark runs for at least this long, unless --benchmark_min_time says
// otherwise: Google Benchmark's half second per op would make a run of minutes there. Given as the
// flag, since a benchmark's own MinTime would also change its name.
char kCpuMinTime[] = "--benchmark_min_time=0.05";

bool has_flag(const std::vector<char*>& flags, const std::string& name) {
  for (const char* flag : flags) {
    if (std::string(flag).rfind(name, 0) == 0) return true;
  }
  return false;
}

void add_context(const r50::DeviceInfo& info, const r50::RunSettings& settings, const r50::DevicePeaks& peaks,
                 const r50::PeakSizes& sizes, int convolutions) {
  r50::add_run_context(info, settings, {R50_GIT_COMMIT, R50_BUILD_TYPE});
  benchmark::AddCustomContext("peak_tflops", std::to_string(peaks.tflops));
  benchmark::AddCustomContext("peak_gb_per_s", std::to_string(peaks.gb_per_s));
  benchmark::AddCustomContext("peak_matrix_size", std::to_string(sizes.matrix));
  benchmark::AddCustomContext("peak_copy_bytes", std::to_string(sizes.copy_bytes));
  benchmark::AddCustomContext("distinct_convolutions", std::to_string(convolutions));
}

}  // namespace

int main(int argc, char** argv) {
  r50::CommandLine line = r50::split_benchmark_flags(argc, argv);
  Options options;
  CLI::App app{"Times every distinct layer op of a ResNet-50 training step on its own (each convolution\n"
               "shape forward, backward-data and backward-filter; batch norm, ReLU, add and pooling) and\n"
               "reports each against this card's roofline: its matrix rate and memory bandwidth,\n"
               "measured at start-up with a large SGEMM and a large copy. Ends with the ops that lose\n"
               "the most time per training step against it. --benchmark_* flags go to Google Benchmark."};
  app.add_option("--device", options.device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app.add_option("--gpu", options.gpu, "GPU index")->capture_default_str();
  app.add_option("--precision", options.precision,
                 "fp32 (IEEE), tf32 (tensor cores for the convolutions and the SGEMM), or fp16 or bf16 (the "
                 "layers' tensors in that dtype, but batch norm's per-channel vectors in fp32; GB/s counted "
                 "with 2-byte elements); the peak is measured in the same precision")->capture_default_str();
  app.add_option("--batch-size", options.batch_size, "images per step (default: 64 on a GPU, 2 on the CPU)")
      ->check(CLI::PositiveNumber);
  app.add_option("--image-size", options.image_size, "training crop (default: 224 on a GPU, 64 on the CPU)")
      ->check(CLI::Range(32, 1024));
  app.add_option("--threads", options.threads, "CPU backend threads (0: every core)")->capture_default_str();
  app.add_flag("--cudnn-benchmark", options.cudnn_benchmark,
               "time cuDNN's candidate algorithms for each convolution shape instead of trusting its heuristics");
  app.add_option("--cudnn-api", options.cudnn_api,
                 "the cuDNN API that runs the convolutions: legacy (the descriptor API) or graph (the graph API "
                 "through cudnn-frontend; backward data that adds into its output stays on the legacy API), "
                 "as bench_resnet50 --cudnn-api; cuda backend only")
      ->check(CLI::IsMember({"legacy", "graph"}))->capture_default_str();
  app.add_option("--peak-matrix-size", options.peak_matrix_size,
                 "n of the n x n x n SGEMM that measures the matrix peak (default: 8192 on a GPU, 1024 on the CPU)")
      ->check(CLI::PositiveNumber);
  app.add_option("--peak-copy-mib", options.peak_copy_mib,
                 "MiB copied to measure the memory bandwidth (default: 1024 on a GPU, 256 on the CPU)")
      ->check(CLI::PositiveNumber);
  app.add_option("--summary-rows", options.summary_rows, "layers in the closing table")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_flag("--unfused", options.unfused,
               "time batch norm, the residual add and ReLU as separate ops instead of the fused ones the model runs");
  app.add_flag("--channels-last", options.channels_last,
               "activations and convolution weights channels-last (NHWC), as bench_resnet50 --channels-last");
  try {
    app.parse(static_cast<int>(line.ours.size()), line.ours.data());
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }

  try {
    r50::BackendOptions backend_options;
    backend_options.choice = r50::parse_backend_choice(options.device);
    backend_options.gpu = options.gpu;
    backend_options.threads = options.threads;
    backend_options.cudnn_benchmark = options.cudnn_benchmark;
    backend_options.cudnn_api = r50::parse_cudnn_api(options.cudnn_api);
    backend_options.precision = r50::parse_precision(options.precision);
    const std::string precision = r50::precision_name(backend_options.precision);
    auto backend = r50::select_backend(backend_options, std::cerr);
    const bool gpu = !backend->device().is_cpu();
    if (options.batch_size == 0) options.batch_size = gpu ? 64 : 2;
    if (options.image_size == 0) options.image_size = gpu ? 224 : 64;
    if (!gpu && !has_flag(line.benchmark, "--benchmark_min_time")) line.benchmark.push_back(kCpuMinTime);
    int benchmark_argc = static_cast<int>(line.benchmark.size());
    benchmark::Initialize(&benchmark_argc, line.benchmark.data());
    if (benchmark::ReportUnrecognizedArguments(benchmark_argc, line.benchmark.data())) return 2;

    const r50::DType dtype = r50::compute_dtype(backend_options.precision);
    std::vector<r50::LayerShape> layers =
        r50::training_step_layers(options.batch_size, options.image_size, 1000, !options.unfused);
    for (r50::LayerShape& layer : layers) {
      layer.dtype = dtype;
      layer.layout = options.channels_last ? r50::Layout::ChannelsLast : r50::Layout::RowMajor;
    }
    const std::string layout_suffix = options.channels_last ? "/channels_last" : "";
    int convolutions = 0;
    for (const r50::LayerShape& layer : layers) convolutions += layer.op == r50::LayerOp::ConvForward;
    std::cerr << "device: " << backend->device_info().name << " (" << backend->name() << " backend, " << precision
              << (gpu ? ", convolutions on cuDNN's " + options.cudnn_api + " API" : "")
              << ")\nResNet-50 training step, batch " << options.batch_size << ", " << options.image_size << "x"
              << options.image_size << ": " << layers.size() << " distinct layer ops, " << convolutions
              << " distinct convolutions\n";

    r50::PeakSizes sizes = r50::default_peak_sizes(*backend);
    sizes.matrix_dtype = dtype;
    if (options.peak_matrix_size > 0) sizes.matrix = options.peak_matrix_size;
    if (options.peak_copy_mib > 0) sizes.copy_bytes = static_cast<std::size_t>(options.peak_copy_mib) << 20;
    const r50::DevicePeaks peaks = r50::measure_peaks(*backend, sizes);
    const std::string gemm = dtype == r50::DType::F32 ? "sgemm" : "hgemm";  // hgemm: F16 or BF16 operands
    std::fprintf(stderr, "measured peaks: %.2f TFLOP/s (%d^3 %s), %.1f GB/s (%zu MiB copy)\n", peaks.tflops,
                 sizes.matrix, gemm.c_str(), peaks.gb_per_s, sizes.copy_bytes >> 20);

    // Google Benchmark's time is each call's device time (layer_benchmarks.h).
    const auto device_timed = [](benchmark::internal::Benchmark* benchmark) {
      benchmark->UseManualTime()->Unit(benchmark::kMicrosecond);
    };
    device_timed(benchmark::RegisterBenchmark(
        ("peak/" + gemm + "_" + std::to_string(sizes.matrix) + "/" + precision).c_str(), r50::matrix_peak_benchmark,
        backend.get(), &sizes, &peaks));
    device_timed(benchmark::RegisterBenchmark(
        ("peak/copy_" + std::to_string(sizes.copy_bytes >> 20) + "MiB/" + precision).c_str(),
        r50::bandwidth_peak_benchmark, backend.get(), &sizes, &peaks));
    std::vector<r50::LayerResult> results(layers.size());
    for (std::size_t i = 0; i < layers.size(); ++i) {
      results[i].name = r50::layer_op_name(layers[i].op) + "/" + r50::layer_shape_label(layers[i]);
      results[i].layer = layers[i];
      const std::string name =
          results[i].name + "/bs:" + std::to_string(options.batch_size) + "/" + precision + layout_suffix;
      device_timed(benchmark::RegisterBenchmark(name.c_str(), r50::layer_benchmark, backend.get(), &layers[i], &peaks,
                                                &results[i]));
    }
    add_context(backend->device_info(),
                {gpu ? "cuda:" + std::to_string(options.gpu) : "cpu", precision, options.batch_size,
                 options.image_size, "synthetic"},
                peaks, sizes, convolutions);
    benchmark::AddCustomContext("fused_batch_norm_relu", options.unfused ? "false" : "true");
    benchmark::AddCustomContext("channels_last", options.channels_last ? "true" : "false");
    benchmark::AddCustomContext("cudnn_api", options.cudnn_api);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    const std::string summary = r50::roofline_summary(results, static_cast<std::size_t>(options.summary_rows));
    std::printf("\nthis card's roofline, measured at start-up: %.2f TFLOP/s, %.1f GB/s\n%s", peaks.tflops,
                peaks.gb_per_s, summary.c_str());
    if (const int failed = r50::failed_layer_benchmarks()) {
      std::cerr << "error: " << failed << " benchmark" << (failed == 1 ? "" : "s")
                << " failed; the report gives each one's error\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
}
