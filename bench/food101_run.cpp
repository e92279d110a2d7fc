#include "food101_run.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/host.h"
#include "core/interrupt.h"
#include "data_report.h"
#include "memory/cuda_memory.h"
#include "memory/host_allocator.h"
#include "report/progress.h"
#include "train/graph_step.h"
#include "train/input_pipeline.h"
#include "train/loss_watch.h"
#include "train/train_step.h"

namespace r50 {
namespace {

using Clock = std::chrono::steady_clock;

// Pinned host memory when a GPU reads the batches (so that uploads run beside the compute).
std::unique_ptr<Allocator> host_memory_for(const Backend& backend) {
  if (backend.device().is_cpu()) return std::make_unique<HostAllocator>();
  return make_pinned_host_allocator();
}

// Counted by reason before training; named in the report at the end (the loader's statistics carry
// them there).
void warn_about_skipped_lines(const Food101Index& index, std::ostream& progress) {
  progress << skipped_lines_warning(index);
}

LoaderOptions loader_options_for(const Food101RunOptions& options, bool train) {
  LoaderOptions loader_options;
  loader_options.batch_size = options.batch_size;
  loader_options.image_size = options.image_size;
  loader_options.workers = options.workers;
  loader_options.train = train;
  loader_options.drop_last = train;  // every training step a full batch; every test image counts
  loader_options.seed = options.seed;
  return loader_options;
}

// The warm-up, then the measured steps; fills the training figures of `result`. The loader and
// the input pipeline end with it, so an evaluation after it has the memory and the cores.
void train(ResNet50& model, const Food101Index& index, const Food101RunOptions& options,
           Allocator& host_memory, std::ostream& progress, Food101Result& result) {
  Backend& backend = model.backend();
  Loader loader(index, loader_options_for(options, true), host_memory);
  TrainStep step(model, SgdParams{options.lr, 0.9f, 1e-4f, 0.0f, false});
  InputPipeline input(backend, loader, model.compute_dtype(), model.layout());
  std::optional<GraphTrainStep> graph;
  if (options.cuda_graph) graph.emplace(step);
  const auto train_on = [&](const InputBatch& batch, StepTimer* timer) {
    if (graph) {
      graph->run(batch.images, batch.labels, timer);
    } else {
      step.run(batch.images, batch.labels, timer);
    }
  };

  std::int64_t epoch = 0;
  input.start_epoch(epoch);
  // The next batch, moving to the next epoch at the end of one; nothing once `last_epoch` ends.
  const auto next_batch = [&](std::int64_t last_epoch) -> std::optional<InputBatch> {
    for (;;) {
      if (std::optional<InputBatch> batch = input.next()) return batch;
      if (epoch >= last_epoch) return std::nullopt;
      input.start_epoch(++epoch);
    }
  };

  LossWatch losses(backend);
  // Batch statistics need two values per channel; the last stage has ceil(S/32)^2 per image.
  const std::int64_t last_stage = (options.image_size + 31) / 32;
  const auto trainable = [&](const InputBatch& batch) {
    if (batch.labels.numel() * last_stage * last_stage >= 2) return true;
    ++result.batches_passed_over;
    return false;
  };
  for (int i = 0; i < options.warmup; ++i) {
    if (interrupt_signal()) break;  // the measured loop's first check reports it
    const std::optional<InputBatch> batch = next_batch(epoch);
    if (!batch) break;
    if (!trainable(*batch)) continue;
    train_on(*batch, nullptr);
    losses.record(step.loss_tensor());
  }
  backend.synchronize();

  if (options.steps == 0 && options.warmup > 0) input.start_epoch(++epoch);  // whole epochs
  const std::int64_t last_epoch = options.steps > 0 ? INT64_MAX : epoch + options.epochs - 1;
  const double wait_before = loader.stats().wait_seconds;
  const double upload_before = input.upload_seconds();
  StepTimer timer(backend);
  const Clock::time_point start = Clock::now();
  const std::int64_t total_steps = options.steps > 0 ? options.steps : options.epochs * loader.batches_per_epoch();
  ProgressDisplay display(progress, options.progress_bar);
  while (options.steps == 0 || result.steps < options.steps) {
    if ((result.interrupted_by = interrupt_signal()) != 0) break;
    const std::optional<InputBatch> batch = next_batch(last_epoch);
    if (!batch) break;
    if (!trainable(*batch)) continue;
    train_on(*batch, &timer);
    losses.record(step.loss_tensor());
    ++result.steps;
    result.images += batch->labels.numel();
    display.update({result.steps, total_steps, result.images, total_steps * options.batch_size,
                    seconds_since(start), epoch});
  }
  display.finish();
  result.final_loss = step.loss();  // waits for the device
  result.scales_loss = step.scales_loss();
  result.overflow_skipped_steps = step.skipped_steps();
  result.loss_scale = step.loss_scale();
  result.seconds = seconds_since(start);
  losses.check();
  timer.flush();
  result.phases = timer.totals();
  result.loader = loader.stats();
  result.data_wait_seconds = result.loader.wait_seconds - wait_before;
  result.upload_seconds = input.upload_seconds() - upload_before;
}

// Top-1 over the whole test split, in index order; fills the evaluation figures of `result`.
void evaluate(ResNet50& model, const Food101Index& test_index, const Food101RunOptions& options,
              Allocator& host_memory, std::ostream& progress, Food101Result& result) {
  Loader loader(test_index, loader_options_for(options, false), host_memory);
  InputPipeline input(model.backend(), loader, model.compute_dtype(), model.layout());
  input.start_epoch(0);
  const std::int64_t total_batches = loader.batches_per_epoch();
  ProgressDisplay display(progress, options.progress_bar);
  result.eval = evaluate_top1(model, input, [&](const EvalResult& so_far) {
    display.update({so_far.batches, total_batches, so_far.images, result.test_images, so_far.seconds});
  });
  display.finish();
  result.eval_loader = loader.stats();
  result.evaluated = true;
}

}  // namespace

Food101Result run_food101(Backend& backend, const Food101RunOptions& options, std::ostream& progress) {
  const Food101Index index = read_food101_index(options.data_dir, Split::Train, {options.strict});
  warn_about_skipped_lines(index, progress);
  std::optional<Food101Index> test_index;
  if (options.eval) {
    test_index = read_food101_index(options.data_dir, Split::Test, {options.strict});
    warn_about_skipped_lines(*test_index, progress);
    const std::size_t skipped = test_index->skipped.size();
    R50_CHECK(!test_index->entries.empty(), "--eval: ",
              (std::filesystem::path(options.data_dir) / "meta" / "test.txt").string(), " lists no ",
              skipped > 0 ? "usable " : "", "test image",
              skipped > 0 ? " (" + std::to_string(skipped) + (skipped == 1 ? " line" : " lines") + " skipped)" : std::string(),
              ": the test split is empty, nothing to evaluate");
  }
  Food101Result result;
  result.classes = static_cast<int>(index.classes.size());
  result.train_images = static_cast<std::int64_t>(index.entries.size());
  result.skipped_lines = static_cast<std::int64_t>(index.skipped.size());
  R50_CHECK(result.train_images >= options.batch_size, "--data-dir ", options.data_dir, ": ", result.train_images,
            " training images make no full batch of ", options.batch_size);

  const std::unique_ptr<Allocator> host_memory = host_memory_for(backend);
  ResNet50 model(backend, result.classes, options.compute_dtype, options.layout);
  model.initialize(options.seed);
  model.set_fused_batch_norm_relu(!options.unfused);
  train(model, index, options, *host_memory, progress, result);
  if (test_index && !result.interrupted_by) {
    result.test_images = static_cast<std::int64_t>(test_index->entries.size());
    evaluate(model, *test_index, options, *host_memory, progress, result);
  }
  return result;
}

}  // namespace r50
