// defines: MaxBatchSearch, find_max_batch, largest_batch_up_to, default_gpu_batch
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>

#include "ops/select_backend.h"

namespace r50 {

struct MaxBatchSearch {
  int image_size = 224;
  int classes = 101;
  std::uint64_t seed = 0;
  Layout layout = Layout::RowMajor;  // the model's, as the run's --channels-last
  int cap = 4096;  // the search stops here: a batch this large is not a memory question any more
};

// bench_resnet50 --find-max-batch: the largest batch whose training step fits under the device
// allocator's limit, 0 when not even one image does. A batch fits when two training steps on it
// (ResNet-50 built and initialised, synthetic images and labels on the device) run without
// OutOfMemory. Batches 1, 2, 4, ... are tried until one fails or `cap` fits, then the gap between
// the last fit and the first failure is bisected. Each try gets a fresh backend, so that nothing
// a larger try left behind (the cuDNN workspace grows and is kept) decides a smaller one.
// Progress, one line per try with the allocator's peak, goes to `progress`.
int find_max_batch(const BackendOptions& backend_options, const MaxBatchSearch& search,
                   std::ostream& progress);

// The largest batch up to `preferred` for which `fits` holds, trying as few as it can: `preferred`
// itself first; then, bisecting, the multiples of 8 below it (the sizes tensor cores and the
// kernels' blocks divide evenly); only when not even 8 fits, 1 to 7. 0 when nothing fits. `fits`
// is taken to be monotone: a batch fits when a larger one does.
int largest_batch_up_to(int preferred, const std::function<bool(int)>& fits);

// bench_resnet50's default batch on a GPU (DESIGN.md: 64, capped at the largest that fits):
// `preferred` when it fits under `memory_bytes` (the limit, or the device's memory), else
// largest_batch_up_to's answer, each try two training steps on a fresh backend as in
// find_max_batch. A device with more than twice the memory a `preferred` step is estimated to
// need (ResNet-50 fp32 reserves about 6 GiB at batch 64, 224x224, scaled by batch and area) is not
// tried at all, so large cards start at once. Says on `progress` when it shrinks the batch.
int default_gpu_batch(const BackendOptions& backend_options, const MaxBatchSearch& search, int preferred,
                      std::uint64_t memory_bytes, std::ostream& progress);

}  // namespace r50
