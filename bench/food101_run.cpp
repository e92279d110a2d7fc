#include "food101_run.h"

#include <chrono>
#include <cstdint>
#include <memory>

#include "memory/cuda_memory.h"
#include "memory/host_allocator.h"
#include "report/progress.h"
#include "train/input_pipeline.h"
#include "train/train_step.h"

namespace r50 {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Pinned host memory when a GPU reads the batches (so that uploads run beside the compute).
std::unique_ptr<Allocator> host_memory_for(const Backend& backend) {
  if (backend.device().is_cpu()) return std::make_unique<HostAllocator>();
  return make_pinned_host_allocator();
}

}  // namespace

Food101Result run_food101(Backend& backend, const Food101RunOptions& options, std::ostream& progress) {
  const Food101Index index = read_food101_index(options.data_dir, Split::Train, {options.strict});
  for (std::size_t i = 0; i < index.skipped.size() && i < 10; ++i) {
    const SkippedLine& line = index.skipped[i];
    progress << "warning: " << line.file << ":" << line.line << " skipped (" << line.why << "): "
             << line.text << "\n";
  }
  if (index.skipped.size() > 10) progress << "warning: " << index.skipped.size() - 10 << " more lines skipped\n";
  Food101Result result;
  result.classes = static_cast<int>(index.classes.size());
  result.train_images = static_cast<std::int64_t>(index.entries.size());
  result.skipped_lines = static_cast<std::int64_t>(index.skipped.size());

  LoaderOptions loader_options;
  loader_options.batch_size = options.batch_size;
  loader_options.image_size = options.image_size;
  loader_options.workers = options.workers;
  loader_options.drop_last = true;
  loader_options.seed = options.seed;
  const std::unique_ptr<Allocator> host_memory = host_memory_for(backend);
  Loader loader(index, loader_options, *host_memory);
  R50_CHECK(loader.batches_per_epoch() > 0, "--data-dir ", options.data_dir, ": ", index.entries.size(),
            " training images make no full batch of ", options.batch_size);

  ResNet50 model(backend, result.classes);
  model.initialize(options.seed);
  TrainStep step(model, SgdParams{0.1f * options.batch_size / 256, 0.9f, 1e-4f, 0.0f, false});
  InputPipeline input(backend, loader);

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

  for (int i = 0; i < options.warmup; ++i) {
    const std::optional<InputBatch> batch = next_batch(epoch);
    if (!batch) break;
    step.run(batch->images, batch->labels);
  }
  backend.synchronize();

  if (options.steps == 0 && options.warmup > 0) input.start_epoch(++epoch);  // whole epochs
  const std::int64_t last_epoch = options.steps > 0 ? INT64_MAX : epoch + options.epochs - 1;
  const double wait_before = loader.stats().wait_seconds;
  const Clock::time_point start = Clock::now();
  const std::int64_t total_steps = options.steps > 0 ? options.steps : options.epochs * loader.batches_per_epoch();
  ProgressDisplay display(progress, options.progress_bar);
  while (options.steps == 0 || result.steps < options.steps) {
    const std::optional<InputBatch> batch = next_batch(last_epoch);
    if (!batch) break;
    step.run(batch->images, batch->labels);
    ++result.steps;
    result.images += batch->labels.numel();
    display.update({result.steps, total_steps, result.images, total_steps * options.batch_size,
                    seconds_since(start), epoch});
  }
  display.finish();
  result.final_loss = step.loss();  // waits for the device
  result.seconds = seconds_since(start);
  result.loader = loader.stats();
  result.data_wait_seconds = result.loader.wait_seconds - wait_before;
  return result;
}

}  // namespace r50
