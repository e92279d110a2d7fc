#include "train_benchmarks.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <vector>

#include <unistd.h>

#include "core/host.h"
#include "core/interrupt.h"
#include "core/rng.h"
#include "food101_run.h"
#include "ops/cuda/cuda_backend.h"
#include "report/progress.h"
#include "train/graph_step.h"
#include "train/loss_watch.h"
#include "train/step_timer.h"
#include "train/train_step.h"

namespace r50 {
namespace {

constexpr double kFood101TrainImages = 75'750;

Layout model_layout(const BenchOptions& options) {
  return options.channels_last ? Layout::ChannelsLast : Layout::RowMajor;
}

// The GPU's clocks and power now; nothing on another backend.
GpuClocks clocks_now(const Backend& backend) {
  const auto* cuda = dynamic_cast<const CudaBackend*>(&backend);
  return cuda ? cuda->clocks() : GpuClocks{};
}

void count_clocks(benchmark::State& state, const GpuClocks& clocks) {
  if (!clocks.known) return;
  state.counters["sm_clock_mhz"] = clocks.sm_mhz;
  if (clocks.power_watts > 0) state.counters["power_watts"] = clocks.power_watts;
}

void count_phases(benchmark::State& state, const StepPhases& phases) {
  if (phases.steps == 0) return;
  const double steps = static_cast<double>(phases.steps);
  if (!phases.phases_known()) {  // CUDA graph replays: no mark splits them, so no phase is reported
    state.counters["graph_step_ms"] = phases.step_ms() / steps;
    return;
  }
  state.counters["forward_ms"] = phases.forward_ms / steps;
  state.counters["backward_ms"] = phases.backward_ms / steps;
  state.counters["optimizer_ms"] = phases.optimizer_ms / steps;
}

// fp16's dynamic loss scaling: the steps it skipped (gradients overflowed) and the scale it ended on.
void count_loss_scaling(benchmark::State& state, bool scales_loss, std::int64_t skipped_steps, float loss_scale) {
  if (!scales_loss) return;
  state.counters["overflow_skipped_steps"] = static_cast<double>(skipped_steps);
  state.counters["loss_scale"] = loss_scale;
}

void count_memory(benchmark::State& state, const AllocatorStats& memory) {
  state.counters["peak_allocated_bytes"] = static_cast<double>(memory.peak_allocated_bytes);
  state.counters["peak_reserved_bytes"] = static_cast<double>(memory.peak_reserved_bytes);
}

// Marks the measurement as ended early, for Google Benchmark and for the report.
void stop(benchmark::State& state, Measurement& measurement, Stop why, const std::string& message) {
  measurement.stop = why;
  measurement.stop_message = message;
  state.SkipWithError(message.c_str());
}

// The synthetic benchmark's body; train_step_synthetic guards it.
void run_train_steps(benchmark::State& state, Backend& backend, const BenchOptions& options,
                     Measurement& measurement) {
  // Memory figures per repetition: peaks from here, raw allocations made from here.
  backend.allocator().reset_peak();
  const std::uint64_t raw_before = backend.allocator().stats().raw_allocation_count;
  const int batch = options.batch_size;
  ResNet50 model(backend, options.classes, compute_dtype(parse_precision(options.precision)), model_layout(options));
  model.initialize(options.seed);
  model.set_fused_batch_norm_relu(!options.unfused);
  TrainStep step(model, SgdParams{options.lr, 0.9f, 1e-4f, 0.0f, false});

  const SyntheticBatch synthetic =
      make_synthetic_batch(backend, batch, options.image_size, options.classes, options.seed, model.layout());
  const Tensor &images = synthetic.images, &labels = synthetic.labels;
  std::optional<GraphTrainStep> graph;
  if (options.cuda_graph) graph.emplace(step);
  const auto train = [&](StepTimer* timer) {
    if (graph) {
      graph->run(images, labels, timer);
    } else {
      step.run(images, labels, timer);
    }
  };

  LossWatch losses(backend);
  for (int i = 0; i < options.warmup; ++i) {
    if (interrupt_signal()) break;  // the measured loop's first check reports it
    train(nullptr);
    losses.record(step.loss_tensor());
  }
  backend.synchronize();
  // Silent for the first seconds, so only long runs (the CPU backend's, big batches) show it.
  ProgressDisplay progress(std::cerr, isatty(fileno(stderr)));
  StepTimer timer(backend);
  const std::int64_t steps = state.max_iterations;
  std::int64_t done = 0;
  double reported_ms = 0;  // device time handed to Google Benchmark so far
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (const int signal = interrupt_signal()) {
      stop(state, measurement, Stop::Interrupted,
           "interrupted by signal " + std::to_string(signal) + " after " + std::to_string(done) + " of " +
               std::to_string(steps) + " measured steps");
      break;
    }
    train(&timer);
    losses.record(step.loss_tensor());
    if (++done == steps) {
      measurement.clocks = clocks_now(backend);  // the device is still busy with the last steps
      timer.flush();
    }
    // The timer reads each step a few steps late; the sum is exact once the last one is read.
    state.SetIterationTime((timer.totals().step_ms() - reported_ms) / 1e3);
    reported_ms = timer.totals().step_ms();
    progress.update({done, steps, done * batch, steps * batch, seconds_since(start)});
  }
  const double wall_seconds = seconds_since(start);
  progress.finish();
  if (measurement.stop != Stop::None) return;
  losses.check();

  const StepPhases& phases = timer.totals();
  const double seconds_per_step = phases.step_ms() / 1e3 / static_cast<double>(phases.steps);
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["images_per_second"] = batch / seconds_per_step;
  state.counters["ms_per_step"] = seconds_per_step * 1e3;
  state.counters["wall_ms_per_step"] = wall_seconds * 1e3 / static_cast<double>(state.iterations());
  state.counters["food101_epoch_seconds"] = kFood101TrainImages / batch * seconds_per_step;
  state.counters["final_loss"] = step.loss();
  count_loss_scaling(state, step.scales_loss(), step.skipped_steps(), step.loss_scale());
  count_phases(state, phases);
  count_clocks(state, measurement.clocks);
  const AllocatorStats memory = backend.allocator().stats();
  count_memory(state, memory);
  state.counters["raw_allocations"] = static_cast<double>(memory.raw_allocation_count - raw_before);
  measurement.memory = memory;
}

// The end-to-end benchmark's body; epoch_food101 guards it.
void run_epochs(benchmark::State& state, Backend& backend, const BenchOptions& options, Measurement& measurement) {
  backend.allocator().reset_peak();  // memory figures per repetition, as in the synthetic run
  Food101RunOptions run;
  run.data_dir = options.data_dir;
  run.batch_size = options.batch_size;
  run.image_size = options.image_size;
  run.workers = options.workers;
  run.steps = options.epochs > 0 ? 0 : options.steps;
  run.epochs = options.epochs;
  run.warmup = options.warmup;
  run.seed = options.seed;
  run.lr = options.lr;
  run.strict = options.strict;
  run.eval = options.eval;
  run.cuda_graph = options.cuda_graph;
  run.unfused = options.unfused;
  run.compute_dtype = compute_dtype(parse_precision(options.precision));
  run.layout = model_layout(options);
  run.progress_bar = isatty(fileno(stderr));
  Food101Result result;
  for (auto _ : state) {
    result = run_food101(backend, run, std::cerr);
    state.SetIterationTime(result.seconds);  // the measured steps alone: no set-up, no warm-up
  }
  if (result.interrupted_by) {
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.1f", result.seconds > 0 ? result.images / result.seconds : 0.0);
    stop(state, measurement, Stop::Interrupted,
         "interrupted by signal " + std::to_string(result.interrupted_by) + " after " +
             std::to_string(result.steps) + " measured steps, at " + rate + " images/s until then");
    return;
  }
  const double images_per_second = result.seconds > 0 ? result.images / result.seconds : 0.0;
  const double steps = static_cast<double>(result.steps);
  state.counters["images_per_second"] = images_per_second;
  state.counters["ms_per_step"] = result.steps ? 1e3 * result.seconds / steps : 0.0;
  if (options.epochs > 0) state.counters["epoch_seconds"] = result.seconds / options.epochs;
  state.counters["food101_epoch_seconds"] = images_per_second > 0 ? kFood101TrainImages / images_per_second : 0.0;
  state.counters["data_wait_fraction"] = result.seconds > 0 ? result.data_wait_seconds / result.seconds : 0.0;
  if (result.steps) {
    state.counters["data_wait_ms"] = 1e3 * result.data_wait_seconds / steps;
    state.counters["copy_ms"] = 1e3 * result.upload_seconds / steps;
  }
  count_phases(state, result.phases);
  count_clocks(state, measurement.clocks);
  state.counters["skipped_images"] = static_cast<double>(result.loader.images_skipped);
  state.counters["final_loss"] = result.final_loss;
  count_loss_scaling(state, result.scales_loss, result.overflow_skipped_steps, result.loss_scale);
  measurement.memory = backend.allocator().stats();
  count_memory(state, measurement.memory);
  measurement.loader = result.loader;
  measurement.data_wait_fraction = result.seconds > 0 ? result.data_wait_seconds / result.seconds : 0.0;
  measurement.batches_passed_over = result.batches_passed_over;
  measurement.food101 = true;
  if (result.evaluated) {
    state.counters["eval_top1"] = result.eval.top1();
    state.counters["eval_images"] = static_cast<double>(result.eval.images);
    state.counters["eval_images_per_second"] = result.eval.images_per_second();
    measurement.evaluated = true;
    measurement.eval = result.eval;
    measurement.eval_loader = result.eval_loader;
  }
}

// Runs a benchmark's body, turning the ways a long run ends early into a marked measurement: a
// later repetition, after one of them, does not start.
template <typename Body>
void guarded(benchmark::State& state, Measurement& measurement, Body&& body) {
  if (measurement.stop != Stop::None || interrupt_signal()) {
    stop(state, measurement, measurement.stop == Stop::None ? Stop::Interrupted : measurement.stop,
         "not run: " + (measurement.stop_message.empty() ? std::string("interrupted") : measurement.stop_message));
    return;
  }
  try {
    body();
  } catch (const OutOfMemory& error) {
    stop(state, measurement, Stop::OutOfMemory, error.what());
  } catch (const TrainingDiverged& error) {
    stop(state, measurement, Stop::Diverged, error.what());
  }
}

}  // namespace

SyntheticBatch make_synthetic_batch(Backend& backend, int batch, int size, int classes, std::uint64_t seed,
                                    Layout layout) {
  Rng rng(seed);
  std::vector<float> host_images(static_cast<std::size_t>(batch) * 3 * size * size);
  for (float& value : host_images) value = static_cast<float>(rng.normal());
  std::vector<std::int32_t> host_labels(static_cast<std::size_t>(batch));
  for (std::int32_t& label : host_labels) label = static_cast<std::int32_t>(rng.below(classes));
  SyntheticBatch synthetic{
      OwnedTensor(backend.allocator(), {batch, 3, size, size}, DType::F32, backend.device(), layout),
      OwnedTensor(backend.allocator(), {batch}, DType::I32, backend.device())};
  copy_from_host_nchw(backend, synthetic.images, host_images.data());
  backend.copy_from_host(synthetic.labels, host_labels.data());
  return synthetic;
}

LayerProfile profile_layers_synthetic(Backend& backend, const BenchOptions& options, int steps) {
  ResNet50 model(backend, options.classes, compute_dtype(parse_precision(options.precision)), model_layout(options));
  model.initialize(options.seed);
  model.set_fused_batch_norm_relu(!options.unfused);
  TrainStep step(model, SgdParams{options.lr, 0.9f, 1e-4f, 0.0f, false});
  const SyntheticBatch synthetic =
      make_synthetic_batch(backend, options.batch_size, options.image_size, options.classes, options.seed,
                           model.layout());
  return profile_layers(step, synthetic.images, synthetic.labels, steps);
}

void train_step_synthetic(benchmark::State& state, Backend* backend, const BenchOptions* options,
                          Measurement* measurement) {
  guarded(state, *measurement, [&] { run_train_steps(state, *backend, *options, *measurement); });
}

void epoch_food101(benchmark::State& state, Backend* backend, const BenchOptions* options,
                   Measurement* measurement) {
  guarded(state, *measurement, [&] { run_epochs(state, *backend, *options, *measurement); });
}

}  // namespace r50
