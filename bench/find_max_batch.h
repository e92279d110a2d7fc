// defines: MaxBatchSearch, find_max_batch
#pragma once

#include <cstdint>
#include <ostream>

#include "ops/select_backend.h"

namespace r50 {

struct MaxBatchSearch {
  int image_size = 224;
  int classes = 101;
  std::uint64_t seed = 0;
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

}  // namespace r50
