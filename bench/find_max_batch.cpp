#include "find_max_batch.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "memory/caching_allocator.h"
#include "memory_report.h"
#include "train/train_step.h"

namespace r50 {
namespace {

// Two training steps at `batch` on a fresh backend; false when the allocator runs out of memory.
// Everything the try allocated is RAII and returns to the allocator as OutOfMemory unwinds.
bool fits(const BackendOptions& backend_options, const MaxBatchSearch& search, int batch,
          std::ostream& progress) {
  std::ostream quiet(nullptr);
  const std::unique_ptr<Backend> backend = select_backend(backend_options, quiet);
  Allocator& allocator = backend->allocator();
  bool fit = true;
  std::size_t failed_request = 0;
  try {
    ResNet50 model(*backend, search.classes, compute_dtype(backend_options.precision), search.layout);
    model.initialize(search.seed);
    TrainStep step(model, SgdParams{});
    const int size = search.image_size;
    const OwnedTensor images(allocator, {batch, 3, size, size}, DType::F32, backend->device(), search.layout);
    const OwnedTensor labels(allocator, {batch}, DType::I32, backend->device());
    std::vector<std::int32_t> host_labels(static_cast<std::size_t>(batch));
    for (int i = 0; i < batch; ++i) host_labels[static_cast<std::size_t>(i)] = i % search.classes;
    backend->fill(images, 0.5f);
    backend->copy_from_host(labels, host_labels.data());
    for (int i = 0; i < 2; ++i) step.run(images, labels);
    backend->synchronize();
  } catch (const OutOfMemory& error) {
    backend->synchronize();
    fit = false;
    failed_request = error.requested_bytes();
  }
  const AllocatorStats stats = allocator.stats();
  progress << "batch " << batch << ": ";
  if (fit) {
    progress << "fits";
  } else {
    progress << "out of memory (a request for " << format_bytes(failed_request) << " failed)";
  }
  progress << ", peak reserved " << format_bytes(stats.peak_reserved_bytes) << ", peak allocated "
           << format_bytes(stats.peak_allocated_bytes) << "\n";
  return fit;
}

}  // namespace

int find_max_batch(const BackendOptions& backend_options, const MaxBatchSearch& search,
                   std::ostream& progress) {
  int largest_fit = 0, smallest_failure = 0;
  for (int batch = 1; batch <= search.cap; batch *= 2) {
    if (!fits(backend_options, search, batch, progress)) {
      smallest_failure = batch;
      break;
    }
    largest_fit = batch;
  }
  if (smallest_failure == 0 || largest_fit == 0) return largest_fit;
  while (smallest_failure - largest_fit > 1) {
    const int middle = largest_fit + (smallest_failure - largest_fit) / 2;
    (fits(backend_options, search, middle, progress) ? largest_fit : smallest_failure) = middle;
  }
  return largest_fit;
}

int largest_batch_up_to(int preferred, const std::function<bool(int)>& fits) {
  if (preferred <= 0) return 0;
  if (fits(preferred)) return preferred;
  // Multiples of 8 below `preferred`: k·8 for k in [1, last]; bisect for the largest that fits.
  int fit = 0, failed = (preferred - 1) / 8 + 1;  // in units of 8; `failed` is known not to fit
  while (failed - fit > 1) {
    const int middle = fit + (failed - fit) / 2;
    (fits(8 * middle) ? fit : failed) = middle;
  }
  if (fit > 0) return 8 * fit;
  for (int batch = std::min(7, preferred - 1); batch > 0; --batch) {
    if (fits(batch)) return batch;
  }
  return 0;
}

int default_gpu_batch(const BackendOptions& backend_options, const MaxBatchSearch& search, int preferred,
                      std::uint64_t memory_bytes, std::ostream& progress) {
  const double scale = static_cast<double>(preferred) / 64 * search.image_size * search.image_size / (224.0 * 224.0);
  const double estimate = 6.0 * (1ull << 30) * scale;
  if (static_cast<double>(memory_bytes) > 2 * estimate) return preferred;
  std::ostream quiet(nullptr);
  const int batch = largest_batch_up_to(
      preferred, [&](int candidate) { return fits(backend_options, search, candidate, quiet); });
  if (batch != preferred) {
    progress << "batch " << preferred << " does not fit in " << format_bytes(memory_bytes) << "; "
             << (batch > 0 ? "batch " + std::to_string(batch) + " does, and is used (--batch-size chooses another)"
                           : std::string("not even 1 image does"))
             << "\n";
  }
  return batch;
}

}  // namespace r50
