// bench_resnet50: how fast this machine trains ResNet-50: training steps on synthetic data that
// stays on the device (compute alone), or over Food-101 end to end (load, decode, augment, copy,
// compute), timed by Google Benchmark, and the Food-101 epoch time that rate implies.
// Flags not listed in --help starting with --benchmark_ go to Google Benchmark.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <benchmark/benchmark.h>

#include "command_line.h"
#include "git_commit.h"

#include "core/host.h"
#include "core/rng.h"
#include "data_report.h"
#include "find_max_batch.h"
#include "food101_run.h"
#include "memory_report.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/select_backend.h"
#include "report/convolution_report.h"
#include "report/progress.h"
#include "report/results_file.h"
#include "report/run_context.h"
#include "report/summary_table.h"
#include "results_reporter.h"
#include "train/train_step.h"

namespace {

constexpr double kFood101TrainImages = 75'750;

struct Options {
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
  bool eval = false;
  int classes = 101;
  std::uint64_t seed = 0;
  float lr = 0.0f;  // 0: 0.1·batch/256, the linear scaling rule from batch 256 at 0.1
  std::string precision = "fp32";
};

// What the summary needs beyond the counters, from the last measurement.
struct Measurement {
  r50::AllocatorStats memory;
  bool food101 = false;  // an end-to-end run: the loader's figures below mean something
  r50::LoaderStats loader;
  double data_wait_fraction = 0;
  bool evaluated = false;  // --eval: the test split's figures below
  r50::EvalResult eval;
  r50::LoaderStats eval_loader;
};

// A count for a person: 2950 as "2,950".
std::string with_thousands(double value) {
  std::string digits = std::to_string(static_cast<long long>(value + 0.5));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

// A full training step (forward, loss, backward, SGD) on one synthetic batch that stays on the
// device, so the figure is compute alone.
void train_step_synthetic(benchmark::State& state, r50::Backend* backend, const Options* options,
                          Measurement* measurement) {
  // Memory figures per repetition: peaks from here, raw allocations made from here.
  backend->allocator().reset_peak();
  const std::uint64_t raw_before = backend->allocator().stats().raw_allocation_count;
  const int batch = options->batch_size, size = options->image_size;
  r50::ResNet50 model(*backend, options->classes);
  model.initialize(options->seed);
  r50::TrainStep step(model, r50::SgdParams{options->lr, 0.9f, 1e-4f, 0.0f, false});

  r50::Rng rng(options->seed);
  std::vector<float> host_images(static_cast<std::size_t>(batch) * 3 * size * size);
  for (float& value : host_images) value = static_cast<float>(rng.normal());
  std::vector<std::int32_t> host_labels(static_cast<std::size_t>(batch));
  for (std::int32_t& label : host_labels) label = static_cast<std::int32_t>(rng.below(options->classes));
  const r50::OwnedTensor images(backend->allocator(), {batch, 3, size, size}, r50::DType::F32, backend->device());
  const r50::OwnedTensor labels(backend->allocator(), {batch}, r50::DType::I32, backend->device());
  backend->copy_from_host(images, host_images.data());
  backend->copy_from_host(labels, host_labels.data());

  for (int i = 0; i < options->warmup; ++i) step.run(images, labels);
  backend->synchronize();
  // Silent for the first seconds, so only long runs (the CPU backend's, big batches) show it.
  r50::ProgressDisplay progress(std::cerr, isatty(fileno(stderr)));
  const std::int64_t steps = state.max_iterations;
  std::int64_t done = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    step.run(images, labels);
    backend->synchronize();
    ++done;
    progress.update({done, steps, done * batch, steps * batch,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  progress.finish();
  const float loss = step.loss();
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["images_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * batch, benchmark::Counter::kIsRate);
  const double seconds_per_step = seconds / static_cast<double>(state.iterations());
  state.counters["ms_per_step"] = seconds_per_step * 1e3;
  state.counters["food101_epoch_seconds"] = kFood101TrainImages / batch * seconds_per_step;
  state.counters["final_loss"] = loss;
  const r50::AllocatorStats memory = backend->allocator().stats();
  state.counters["peak_allocated_bytes"] = static_cast<double>(memory.peak_allocated_bytes);
  state.counters["peak_reserved_bytes"] = static_cast<double>(memory.peak_reserved_bytes);
  state.counters["raw_allocations"] = static_cast<double>(memory.raw_allocation_count - raw_before);
  measurement->memory = memory;
}

// Training over Food-101 end to end; one Google Benchmark iteration is the whole measured run.
void epoch_food101(benchmark::State& state, r50::Backend* backend, const Options* options,
                   Measurement* measurement) {
  backend->allocator().reset_peak();  // memory figures per repetition, as in the synthetic run
  r50::Food101RunOptions run;
  run.data_dir = options->data_dir;
  run.batch_size = options->batch_size;
  run.image_size = options->image_size;
  run.workers = options->workers;
  run.steps = options->epochs > 0 ? 0 : options->steps;
  run.epochs = options->epochs;
  run.warmup = options->warmup;
  run.seed = options->seed;
  run.lr = options->lr;
  run.strict = options->strict;
  run.eval = options->eval;
  run.progress_bar = isatty(fileno(stderr));
  r50::Food101Result result;
  for (auto _ : state) {
    result = r50::run_food101(*backend, run, std::cerr);
    state.SetIterationTime(result.seconds);  // the measured steps alone: no set-up, no warm-up
  }
  const double images_per_second = result.seconds > 0 ? result.images / result.seconds : 0.0;
  state.counters["images_per_second"] = images_per_second;
  state.counters["ms_per_step"] = result.steps ? 1e3 * result.seconds / result.steps : 0.0;
  if (options->epochs > 0) state.counters["epoch_seconds"] = result.seconds / options->epochs;
  state.counters["food101_epoch_seconds"] = images_per_second > 0 ? kFood101TrainImages / images_per_second : 0.0;
  state.counters["data_wait_fraction"] = result.seconds > 0 ? result.data_wait_seconds / result.seconds : 0.0;
  state.counters["skipped_images"] = static_cast<double>(result.loader.images_skipped);
  state.counters["final_loss"] = result.final_loss;
  measurement->memory = backend->allocator().stats();
  state.counters["peak_allocated_bytes"] = static_cast<double>(measurement->memory.peak_allocated_bytes);
  state.counters["peak_reserved_bytes"] = static_cast<double>(measurement->memory.peak_reserved_bytes);
  measurement->loader = result.loader;
  measurement->data_wait_fraction = result.seconds > 0 ? result.data_wait_seconds / result.seconds : 0.0;
  measurement->food101 = true;
  if (result.evaluated) {
    state.counters["eval_top1"] = result.eval.top1();
    state.counters["eval_images"] = static_cast<double>(result.eval.images);
    state.counters["eval_images_per_second"] = result.eval.images_per_second();
    measurement->evaluated = true;
    measurement->eval = result.eval;
    measurement->eval_loader = result.eval_loader;
  }
}

// The results' context, with "date" (Google Benchmark's own key) in UTC.
void add_run_context(const r50::DeviceInfo& info, const r50::RunSettings& settings) {
  setenv("TZ", "UTC", 1);
  tzset();
  const r50::BuildInfo build{R50_GIT_COMMIT, R50_BUILD_TYPE};
  for (const auto& [key, value] :
       r50::run_context(info, settings, build, r50::host_cpu_model(), std::thread::hardware_concurrency())) {
    benchmark::AddCustomContext(key, value);
  }
}

// cuDNN's algorithm per convolution shape and direction, which the CUDA backend chose during the
// run; empty on another backend.
std::vector<r50::ConvolutionAlgorithm> convolution_algorithms(const r50::Backend& backend) {
  std::vector<r50::ConvolutionAlgorithm> algorithms;
  const auto* cuda = dynamic_cast<const r50::CudaBackend*>(&backend);
  if (cuda == nullptr) return algorithms;
  for (const r50::ConvAlgorithmChoice& choice : cuda->convolution_choices()) {
    algorithms.push_back({r50::conv_direction_name(choice.direction), choice.x.dims(), choice.w.dims(), choice.params.stride, choice.params.padding,
                          choice.algorithm, choice.workspace_bytes, choice.search_ms});
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
  app.add_flag("--strict", options.strict, "a bad index line is an error rather than a warning");
  app.add_option("--device", options.device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app.add_option("--gpu", options.gpu, "GPU index")->capture_default_str();
  CLI::Option* batch_size =
      app.add_option("--batch-size", options.batch_size,
                     "images per step (default: 64 on a GPU, 8 on the CPU)")
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
  app.add_option("--gpu-memory-limit", options.gpu_memory_limit,
                 "cap on reserved device memory: 6GiB, 512MiB, 0.5 or 50% of the device (default: none)");
  app.add_flag("--find-max-batch", options.find_max_batch,
               "report the largest batch whose training step fits under the memory limit, then stop")
      ->excludes(batch_size);
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
                 "arithmetic: fp32 (IEEE, no TF32); tf32, fp16 and bf16 are not built yet")
      ->check(CLI::IsMember({"fp32", "tf32", "fp16", "bf16"}))->capture_default_str();
  try {
    app.parse(static_cast<int>(line.ours.size()), line.ours.data());
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (options.precision != "fp32") {
    std::cerr << "error: --precision " << options.precision
              << ": only fp32 (IEEE, no TF32) is built so far; tf32, fp16 and bf16 are not yet\n";
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
    if (!options.gpu_memory_limit.empty()) {
      backend_options.gpu_memory_limit = r50::parse_memory_limit(options.gpu_memory_limit);
    }
    auto backend = r50::select_backend(backend_options, std::cerr);
    const bool gpu = backend->name() == "cuda";
    if (options.find_max_batch) {
      if (!gpu) {
        std::cerr << "error: --find-max-batch needs a GPU backend: host memory has no cap here\n";
        return 1;
      }
      const std::string limit = r50::describe_memory_limit(backend_options.gpu_memory_limit, *backend);
      backend.reset();  // each try makes its own
      backend_options.choice = r50::BackendChoice::Cuda;
      r50::MaxBatchSearch search;
      search.image_size = options.image_size;
      search.classes = options.classes;
      search.seed = options.seed;
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
      std::cerr << "note: --gpu-memory-limit has no effect on the cpu backend\n";
    }
    if (options.batch_size == 0) options.batch_size = gpu ? 64 : 8;
    if (options.steps == 0) options.steps = gpu ? 20 : 5;
    if (options.lr == 0.0f) options.lr = 0.1f * options.batch_size / 256;
    const r50::DeviceInfo info = backend->device_info();
    std::cerr << "device: " << info.name;
    if (gpu) {
      std::cerr << " (compute capability " << info.compute_capability() << ", " << info.multiprocessors
                << " SMs, " << (info.memory_bytes >> 20) << " MiB; driver " << info.driver_version
                << ", runtime " << info.runtime_version << ", cuDNN " << info.cudnn_loaded_version
                << ", cuBLAS " << info.cublas_loaded_version << ")";
    }
    std::cerr << "\ntraining ResNet-50 on the " << backend->name() << " backend: batch " << options.batch_size
              << ", " << options.image_size << "x" << options.image_size << ", " << options.warmup
              << " warm-up and " << options.steps << " measured steps";
    if (options.repetitions > 1) std::cerr << ", " << options.repetitions << " times";
    if (options.eval) std::cerr << ", then top-1 on the test split";
    std::cerr << "\n";

    Measurement measurement;
    const std::string shape =
        "/fp32/bs:" + std::to_string(options.batch_size) + "/img:" + std::to_string(options.image_size);
    benchmark::internal::Benchmark* registered = nullptr;
    if (options.dataset == "food101") {
      R50_CHECK(!options.data_dir.empty(),
                "--dataset food101 needs --data-dir DIR, the Food-101 root (meta/, images/); "
                "scripts/get_food101.sh fetches the data set");
      registered = benchmark::RegisterBenchmark(("epoch/food101" + shape).c_str(), epoch_food101, backend.get(),
                                                &options, &measurement)
                       ->Iterations(1)
                       ->UseManualTime();
    } else {
      registered = benchmark::RegisterBenchmark(("train_step/synthetic" + shape).c_str(), train_step_synthetic,
                                                backend.get(), &options, &measurement)
                       ->Iterations(options.steps)
                       ->UseRealTime();
    }
    registered->Unit(benchmark::kMillisecond);
    if (options.repetitions > 1) registered->Repetitions(options.repetitions)->ReportAggregatesOnly(false);
    int benchmark_argc = static_cast<int>(line.benchmark.size());
    benchmark::Initialize(&benchmark_argc, line.benchmark.data());
    if (benchmark::ReportUnrecognizedArguments(benchmark_argc, line.benchmark.data())) return 2;
    add_run_context(info, {gpu ? "cuda:" + std::to_string(options.gpu) : "cpu", "fp32", options.batch_size,
                           options.image_size, options.dataset});
    r50::ResultsReporter reporter(r50::make_display_reporter(line.benchmark));
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();

    const std::vector<r50::ConvolutionAlgorithm> algorithms = convolution_algorithms(*backend);
    if (!reporter.records().empty()) {
      std::printf("\n%s", r50::summary_table(r50::summarize_runs(reporter.records())).c_str());
      std::printf("%s memory: %s\n", backend->name().c_str(), r50::memory_summary(measurement.memory).c_str());
    }
    if (measurement.food101) {
      std::printf("%s", r50::training_data_report(measurement.loader, measurement.data_wait_fraction).c_str());
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
      r50::write_file_atomically(options.out, results);
      std::printf("results: %s\n", options.out.c_str());
    }
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
