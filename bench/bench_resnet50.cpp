// bench_resnet50: how fast this machine trains ResNet-50: training steps on synthetic data that
// stays on the device (compute alone, timed with CUDA events), or over Food-101 end to end (load,
// decode, augment, copy, compute), timed by Google Benchmark, the Food-101 epoch time that rate
// implies, and where a step's time went. The benchmarks themselves are in train_benchmarks.cpp.
// Flags not listed in --help starting with --benchmark_ go to Google Benchmark.
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <benchmark/benchmark.h>

#include "command_line.h"
#include "git_commit.h"

#include "core/interrupt.h"
#include "data_report.h"
#include "find_max_batch.h"
#include "layer_report.h"
#include "memory_report.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/select_backend.h"
#include "report/convolution_report.h"
#include "report/results_file.h"
#include "report/run_context.h"
#include "report/summary_table.h"
#include "results_reporter.h"
#include "train/graph_step.h"
#include "train/layer_profile.h"
#include "train_benchmarks.h"

namespace {

using Options = r50::BenchOptions;
using r50::Measurement;

constexpr int kProfiledSteps = 5;

// Exit statuses beyond 0 (done), 1 (an error before or outside the measurement) and 2 (a flag
// Google Benchmark does not know); a signal that stopped the run gives 128 + its number.
constexpr int kExitOutOfMemory = 3;
constexpr int kExitDiverged = 4;

int exit_status(const Measurement& measurement) {
  switch (measurement.stop) {
    case r50::Stop::None: return 0;
    case r50::Stop::OutOfMemory: return kExitOutOfMemory;
    case r50::Stop::Diverged: return kExitDiverged;
    case r50::Stop::Interrupted: return 128 + r50::interrupt_signal();
  }
  return 1;
}

// A count for a person: 2950 as "2,950".
std::string with_thousands(double value) {
  std::string digits = std::to_string(static_cast<long long>(value + 0.5));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

// cuDNN's algorithm per convolution shape and direction, which the CUDA backend chose during the
// run; empty on another backend.
std::vector<r50::ConvolutionAlgorithm> convolution_algorithms(const r50::Backend& backend) {
  std::vector<r50::ConvolutionAlgorithm> algorithms;
  const auto* cuda = dynamic_cast<const r50::CudaBackend*>(&backend);
  if (cuda == nullptr) return algorithms;
  for (const r50::ConvAlgorithmChoice& choice : cuda->convolution_choices()) {
    algorithms.push_back({r50::conv_direction_name(choice.direction), choice.x.dims(), choice.w.dims(), choice.params.stride, choice.params.padding,
                          choice.algorithm, choice.workspace_bytes, choice.search_ms, r50::dtype_name(choice.dtype)});
  }
  return algorithms;
}

}  // namespace

int main(int argc, char** argv) {
  // Google Benchmark's own flags pass through; everything else is ours.
  r50::CommandLine line = r50::split_benchmark_flags(argc, argv);

  Options options;
  CLI::App app{"Trains ResNet-50 (torchvision v1.5) on synthetic data (compute alone) or over Food-101\n"
               "end to end, and reports images/s and the time one Food-101 epoch (75,750 images)\n"
               "takes at that rate, then a summary table. --out FILE.json writes the results (Google\n"
               "Benchmark's JSON, with the run's context) atomically, and checks before the run that it\n"
               "can. --benchmark_* flags go to Google Benchmark; --benchmark_out=FILE writes the same JSON\n"
               "but not atomically, and without the cuDNN algorithms."};
  app.add_option("--dataset", options.dataset, "synthetic or food101")
      ->check(CLI::IsMember({"synthetic", "food101"}))->capture_default_str();
  app.add_option("--data-dir", options.data_dir,
                 "Food-101 root (meta/, images/); scripts/get_food101.sh fetches it");
  app.add_option("--workers", options.workers, "loader threads (0: every core)")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.footer("Exit status: 0 done; 1 an error (bad flags, data or setup); 2 an unknown --benchmark_ flag; 3 out of\n"
             "memory during the run; 4 the loss became NaN or infinite; 130 (143) stopped by Ctrl-C (SIGTERM).\n"
             "With 3, 4 and 130, what was measured before the stop is still reported and written to --out.");
  app.add_flag("--strict", options.strict, "a bad index line is an error rather than a warning");
  app.add_option("--device", options.device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app.add_option("--gpu", options.gpu, "GPU index")->capture_default_str();
  CLI::Option* batch_size =
      app.add_option("--batch-size", options.batch_size,
                     "images per step (default: 64 on a GPU, or the largest multiple of 8 below it that fits; "
                     "8 on the CPU)")
          ->check(CLI::PositiveNumber);
  app.add_option("--image-size", options.image_size, "training crop")->check(CLI::Range(32, 1024))
      ->capture_default_str();
  CLI::Option* steps =
      app.add_option("--steps", options.steps, "measured steps (default: 20 on a GPU, 5 on the CPU)")
          ->check(CLI::PositiveNumber);
  app.add_option("--epochs", options.epochs, "measured Food-101 epochs, instead of --steps")
      ->check(CLI::PositiveNumber)->excludes(steps);
  app.add_option("--warmup", options.warmup, "unmeasured steps before each measurement")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--repetitions", options.repetitions,
                 "measurements, each after its own warm-up; more than 1 adds median, mean, stddev and cv "
                 "rows to the results and the summary shows medians")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--out", options.out,
                 "write the results JSON here, atomically (FILE.tmp, then renamed); its folder must be "
                 "writable, which is checked before the run");
  app.add_option("--threads", options.threads, "CPU backend threads (0: every core)")->capture_default_str();
  app.add_flag("--cudnn-benchmark", options.cudnn_benchmark,
               "time cuDNN's candidate algorithms for each convolution shape instead of trusting "
               "its heuristics");
  app.add_option("--cudnn-api", options.cudnn_api,
                 "the cuDNN API that runs the convolutions: legacy (the descriptor API) or graph (the graph API "
                 "through cudnn-frontend, one planned graph per convolution shape; backward data that adds "
                 "into its output stays on the legacy API); the same numerics either way; cuda backend only. "
                 "With --channels-last, graph was the faster on an H100, 1.4 to 1.6 times in fp16 and bf16 "
                 "(docs/performance.md)")
      ->check(CLI::IsMember({"legacy", "graph"}))->capture_default_str();
  app.add_option("--gpu-memory-limit", options.gpu_memory_limit,
                 "cap on reserved device memory: 6GiB, 512MiB, 0.5 or 50% of the device (default: none); on the "
                 "cpu backend, on the host memory it hands out");
  app.add_flag("--find-max-batch", options.find_max_batch,
               "report the largest batch whose training step fits under the memory limit, then stop")
      ->excludes(batch_size);
  app.add_flag("--profile-layers", options.profile_layers,
               "after the measurement, time every layer's forward and backward on the device over " +
                   std::to_string(kProfiledSteps) + " extra steps (synthetic data), and list the ten slowest and the totals");
  app.add_flag("--eval", options.eval,
               "after the measured training, top-1 accuracy over the Food-101 test split (meta/test.txt, "
               "centre crops), not timed with the training");
  app.add_option("--classes", options.classes, "classifier outputs")->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", options.seed, "weights and synthetic data")->capture_default_str();
  app.add_option("--lr", options.lr,
                 "SGD learning rate, momentum 0.9 and weight decay 1e-4 (default: 0.1 x batch / 256)")
      ->check(CLI::PositiveNumber);
  app.add_option("--precision", options.precision,
                 "arithmetic: fp32 (IEEE, no TF32); tf32 (convolutions and the classifier on tensor cores, "
                 "compute capability 8.0 and newer); fp16 or bf16 (mixed precision as torch.autocast: "
                 "half-precision activations and weight copies from fp32 master weights, batch norm in "
                 "fp32; fp16 with dynamic loss scaling, bf16 needs compute capability 8.0)")
      ->check(CLI::IsMember({"fp32", "tf32", "fp16", "bf16"}))->capture_default_str();
  app.add_flag("--cuda-graph", options.cuda_graph,
               "capture the training step once as a CUDA graph (after " +
                   std::to_string(r50::GraphTrainStep::kEagerSteps) +
                   " ordinary steps, all in the warm-up, which grows to " +
                   std::to_string(r50::GraphTrainStep::kEagerSteps + 1) +
                   " steps if shorter) and replay it for every later step: one launch per step; the "
                   "step's phases are then not timed apart; CUDA backend only");
  app.add_flag("--unfused", options.unfused,
               "run batch norm, the residual sum and ReLU as separate kernels instead of fused ones: the "
               "baseline the fused kernels are measured against");
  app.add_flag("--channels-last", options.channels_last,
               "keep activations and convolution weights channels-last (NHWC), the order tensor cores read "
               "without a transposition, as PyTorch's memory_format=torch.channels_last");
  try {
    app.parse(static_cast<int>(line.ours.size()), line.ours.data());
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (options.cuda_graph && options.device == "cpu") {
    std::cerr << "error: --cuda-graph needs the CUDA backend: the cpu backend runs its ops as they are called, "
                 "so there is no graph to capture\n";
    return 1;
  }
  if (options.eval && options.dataset != "food101") {
    std::cerr << "error: --eval needs --dataset food101: it measures top-1 accuracy on Food-101's test split, "
                 "and synthetic data has none\n";
    return 1;
  }

  try {
    if (!options.out.empty()) r50::check_results_path(options.out);
    r50::BackendOptions backend_options;
    backend_options.choice = r50::parse_backend_choice(options.device);
    backend_options.gpu = options.gpu;
    backend_options.threads = options.threads;
    backend_options.cudnn_benchmark = options.cudnn_benchmark;
    backend_options.cudnn_api = r50::parse_cudnn_api(options.cudnn_api);
    backend_options.precision = r50::parse_precision(options.precision);
    if (!options.gpu_memory_limit.empty()) {
      backend_options.gpu_memory_limit = r50::parse_memory_limit(options.gpu_memory_limit);
    }
    auto backend = r50::select_backend(backend_options, std::cerr);
    const bool gpu = backend->name() == "cuda";
    if (options.cuda_graph && !backend->can_capture()) {
      std::cerr << "error: --cuda-graph needs the CUDA backend, and this run fell back to the " << backend->name()
                << " backend\n";
      return 1;
    }
    // The eager steps and the capture belong to the warm-up, so that every measured step is a replay.
    const int graph_warmup = r50::GraphTrainStep::kEagerSteps + 1;
    if (options.cuda_graph && options.warmup < graph_warmup && !options.find_max_batch) {
      std::cerr << "note: --cuda-graph warms up with " << graph_warmup << " steps, not " << options.warmup
                << ": " << r50::GraphTrainStep::kEagerSteps << " ordinary steps and the one captured\n";
      options.warmup = graph_warmup;
    }
    r50::MaxBatchSearch search;
    search.image_size = options.image_size;
    search.classes = options.classes;
    search.seed = options.seed;
    search.layout = options.channels_last ? r50::Layout::ChannelsLast : r50::Layout::RowMajor;
    if (options.find_max_batch) {
      if (!gpu) {
        std::cerr << "error: --find-max-batch needs a GPU backend: it searches device memory\n";
        return 1;
      }
      const std::string limit = r50::describe_memory_limit(backend_options.gpu_memory_limit, *backend);
      backend.reset();  // each try makes its own
      backend_options.choice = r50::BackendChoice::Cuda;
      std::cerr << "finding the largest batch that trains at " << options.image_size << "x"
                << options.image_size << " under the memory limit " << limit << "\n";
      const int largest = r50::find_max_batch(backend_options, search, std::cerr);
      if (largest == 0) {
        std::printf("largest batch that fits: none, not even 1 image (limit: %s)\n", limit.c_str());
        return 1;
      }
      std::printf("largest batch that fits: %s%d (limit: %s)\n", largest == search.cap ? "at least " : "",
                  largest, limit.c_str());
      return 0;
    }
    if (!gpu && !backend_options.gpu_memory_limit.none()) {
      std::cerr << "note: on the cpu backend, --gpu-memory-limit caps the host memory its allocator hands out\n";
    }
    if (options.batch_size == 0 && gpu) {
      const std::uint64_t memory = backend_options.gpu_memory_limit.none()
                                       ? backend->device_info().memory_bytes
                                       : backend_options.gpu_memory_limit.bytes_of(backend->device_info().memory_bytes);
      backend_options.choice = r50::BackendChoice::Cuda;
      options.batch_size = r50::default_gpu_batch(backend_options, search, 64, memory, std::cerr);
      if (options.batch_size == 0) {
        std::cerr << "error: not even one " << options.image_size << "x" << options.image_size
                  << " image trains in " << r50::format_bytes(memory) << " of device memory\n";
        return 1;
      }
    }
    if (options.batch_size == 0) options.batch_size = 8;
    if (options.steps == 0) options.steps = gpu ? 20 : 5;
    if (options.lr == 0.0f) options.lr = 0.1f * options.batch_size / 256;
    const r50::DeviceInfo info = backend->device_info();
    std::cerr << "device: " << info.name;
    if (gpu) {
      std::cerr << " (compute capability " << info.compute_capability() << ", " << info.multiprocessors
                << " SMs, " << r50::format_bytes(info.memory_bytes) << "; driver "
                << (info.driver_release.empty() ? "" : info.driver_release + " ") << "for CUDA "
                << r50::format_cuda_version(info.driver_version) << ", runtime "
                << r50::format_cuda_version(info.runtime_version) << ", cuDNN "
                << r50::format_cudnn_version(info.cudnn_loaded_version) << ", cuBLAS "
                << r50::format_cublas_version(info.cublas_loaded_version) << ")";
    }
    std::cerr << "\ntraining ResNet-50 on the " << backend->name() << " backend, " << options.precision
              << ": batch " << options.batch_size
              << ", " << options.image_size << "x" << options.image_size << ", " << options.warmup
              << " warm-up and " << options.steps << " measured steps";
    if (options.repetitions > 1) std::cerr << ", " << options.repetitions << " times";
    if (options.eval) std::cerr << ", then top-1 on the test split";
    if (options.cuda_graph) std::cerr << ", each measured step one CUDA graph replay";
    if (options.unfused) std::cerr << ", batch norm, residual sum and ReLU as separate kernels";
    if (options.channels_last) std::cerr << ", channels-last";
    if (gpu) std::cerr << ", convolutions on cuDNN's " << options.cudnn_api << " API";
    std::cerr << "\n";

    Measurement measurement;
    const std::string shape =
        "/" + options.precision + "/bs:" + std::to_string(options.batch_size) + "/img:" + std::to_string(options.image_size);
    benchmark::internal::Benchmark* registered = nullptr;
    if (options.dataset == "food101") {
      R50_CHECK(!options.data_dir.empty(),
                "--dataset food101 needs --data-dir DIR, the Food-101 root (meta/, images/); "
                "scripts/get_food101.sh fetches the data set");
      registered = benchmark::RegisterBenchmark(("epoch/food101" + shape).c_str(), r50::epoch_food101, backend.get(),
                                                &options, &measurement)
                       ->Iterations(1)
                       ->UseManualTime();
    } else {
      registered = benchmark::RegisterBenchmark(("train_step/synthetic" + shape).c_str(), r50::train_step_synthetic,
                                                backend.get(), &options, &measurement)
                       ->Iterations(options.steps)
                       ->UseManualTime();  // the steps' device time
    }
    registered->Unit(benchmark::kMillisecond);
    if (options.repetitions > 1) registered->Repetitions(options.repetitions)->ReportAggregatesOnly(false);
    int benchmark_argc = static_cast<int>(line.benchmark.size());
    benchmark::Initialize(&benchmark_argc, line.benchmark.data());
    if (benchmark::ReportUnrecognizedArguments(benchmark_argc, line.benchmark.data())) return 2;
    r50::add_run_context(info,
                         {gpu ? "cuda:" + std::to_string(options.gpu) : "cpu", options.precision, options.batch_size,
                          options.image_size, options.dataset},
                         {R50_GIT_COMMIT, R50_BUILD_TYPE});
    benchmark::AddCustomContext("cuda_graph", options.cuda_graph ? "true" : "false");
    benchmark::AddCustomContext("fused_batch_norm_relu", options.unfused ? "false" : "true");
    benchmark::AddCustomContext("channels_last", options.channels_last ? "true" : "false");
    benchmark::AddCustomContext("cudnn_api", options.cudnn_api);
    r50::ResultsReporter reporter(r50::make_display_reporter(line.benchmark));
    {
      // Ctrl-C, or a cancelled CI job, ends the measurement between two steps; the results so far
      // are still reported and written below.
      const r50::InterruptWatch interrupts;
      benchmark::RunSpecifiedBenchmarks(&reporter);
    }
    benchmark::Shutdown();
    if (measurement.stop != r50::Stop::None) std::cerr << "error: " << measurement.stop_message << "\n";

    std::optional<r50::LayerProfile> layers;
    if (options.profile_layers && !reporter.records().empty() && measurement.stop == r50::Stop::None) {
      std::cerr << "profiling every layer over " << kProfiledSteps << " more steps\n";
      layers = r50::profile_layers_synthetic(*backend, options, kProfiledSteps);
    }
    const std::vector<r50::ConvolutionAlgorithm> algorithms = convolution_algorithms(*backend);
    if (!reporter.records().empty()) {
      const std::vector<r50::SummaryRow> rows = r50::summarize_runs(reporter.records());
      std::printf("\n%s", r50::summary_table(rows).c_str());
      std::printf("%s memory: %s\n", backend->name().c_str(), r50::memory_summary(measurement.memory).c_str());
      if (gpu) std::printf("CUDA graph: %s\n", options.cuda_graph
                                          ? "on; each measured step was one replay of the training step captured in the "
                                            "warm-up (its phases are not timed apart)"
                                          : "off; every step launched op by op");
      for (const r50::SummaryRow& row : rows) {
        const auto skipped = row.values.find("overflow_skipped_steps"), scale = row.values.find("loss_scale");
        if (skipped == row.values.end() || scale == row.values.end()) continue;
        std::printf("fp16 loss scaling: %.0f steps skipped because their gradients overflowed (warm-up included), "
                    "loss scale %g at the end\n",
                    skipped->second, scale->second);
      }
      if (measurement.clocks.known) {
        std::printf("GPU as the measured steps ended: SM clock %d MHz (max %d), memory %d MHz, drawing %.0f W of a "
                    "%.0f W limit\n",
                    measurement.clocks.sm_mhz, measurement.clocks.max_sm_mhz, measurement.clocks.memory_mhz,
                    measurement.clocks.power_watts, measurement.clocks.power_limit_watts);
      }
      std::printf("\nwhere a step's time went (%s):\n", gpu ? "CUDA events" : "the host's clock");
      for (const r50::SummaryRow& row : rows) std::printf("%s", r50::phase_table(row).c_str());
    }
    if (layers) std::printf("\n%s", r50::layer_profile_table(*layers).c_str());
    if (measurement.food101) {
      std::printf("%s", r50::training_data_report(measurement.loader, measurement.data_wait_fraction).c_str());
      if (measurement.batches_passed_over > 0) {
        std::printf("passed over %lld training batches left with too few images for batch statistics\n",
                    static_cast<long long>(measurement.batches_passed_over));
      }
    }
    if (measurement.evaluated) {
      const r50::EvalResult& eval = measurement.eval;
      std::printf("top-1 on the test split: %.2f%% (%lld of %lld images; %llu skipped), %s images/s\n",
                  100.0 * eval.top1(), static_cast<long long>(eval.correct), static_cast<long long>(eval.images),
                  static_cast<unsigned long long>(measurement.eval_loader.images_skipped),
                  with_thousands(eval.images_per_second()).c_str());
      std::printf("%s", r50::bad_data_report(measurement.eval_loader, "test split").c_str());
    }
    if (!algorithms.empty()) {
      std::printf("\ncuDNN's algorithm per convolution shape:\n%s",
                  r50::convolution_algorithms_table(algorithms).c_str());
    }
    if (!options.out.empty()) {
      std::string results = reporter.json();
      R50_CHECK(!results.empty(), "--out ", options.out, ": no benchmark ran, nothing to write");
      if (!algorithms.empty()) {
        results = r50::with_top_level_key(results, "cudnn_algorithms", r50::convolution_algorithms_json(algorithms));
      }
      if (layers) results = r50::with_top_level_key(results, "layer_profile", r50::layer_profile_json(*layers));
      r50::write_file_atomically(options.out, results);
      std::printf("results: %s%s\n", options.out.c_str(),
                  measurement.stop == r50::Stop::None ? "" : " (what was measured before the run stopped)");
    }
    return exit_status(measurement);
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
}
