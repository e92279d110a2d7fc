// Device memory over training steps, measured device-wide with cudaMemGetInfo: ctest runs this
// binary alone (RUN_SERIAL), since any other process on the GPU moves that figure.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <iostream>
#include <vector>

#include "backends/cuda_backend_for_tests.h"
#include "backends/training_batch.h"
#include "gpu_skip.h"
#include "train/train_step.h"

namespace r50 {
namespace {

constexpr int kClasses = 101;
const SgdParams kSgd{0.01f, 0.9f, 1e-4f, 0.0f, false};

// DESIGN.md: after the second step a training step makes no raw device allocation and the
// device's free memory stays flat. The allocator's count catches a request the cache cannot meet;
// cudaMemGetInfo also catches memory that cuDNN or cuBLAS take behind the allocator's back.
TEST(CudaTraining, FromTheThirdStepOnNothingIsAllocatedFromTheDevice) {
  R50_REQUIRE_GPU_OR_SKIP();
  Backend& backend = cuda();
  Allocator& allocator = backend.allocator();
  const DeviceBatch batch = to_device(backend, make_batch(64, {3, 17, 42, 99, 0, 58, 73, 100}));
  ResNet50 model(backend, kClasses);
  model.initialize(0);
  TrainStep step(model, kSgd);
  for (int i = 0; i < 2; ++i) step.run(batch.images, batch.labels);
  backend.synchronize();
  const AllocatorStats after_second = allocator.stats();

  std::vector<AllocatorStats> stats;
  std::vector<std::size_t> device_free;
  for (int i = 3; i <= 5; ++i) {
    step.run(batch.images, batch.labels);
    backend.synchronize();
    std::size_t free_bytes = 0, total_bytes = 0;
    ASSERT_EQ(cudaMemGetInfo(&free_bytes, &total_bytes), cudaSuccess);
    stats.push_back(allocator.stats());
    device_free.push_back(free_bytes);
  }
  for (int i = 0; i < 3; ++i) {
    std::cout << "after step " << i + 3 << ": " << stats[i].raw_allocation_count
              << " raw allocations (" << after_second.raw_allocation_count << " after step 2), "
              << stats[i].allocated_bytes << " bytes allocated, " << stats[i].reserved_bytes
              << " reserved; the device has " << device_free[i] << " bytes free\n";
    EXPECT_EQ(stats[i].raw_allocation_count, after_second.raw_allocation_count) << "step " << i + 3;
    EXPECT_EQ(stats[i].reserved_bytes, after_second.reserved_bytes) << "step " << i + 3;
    EXPECT_EQ(stats[i].allocated_bytes, after_second.allocated_bytes) << "step " << i + 3;
    EXPECT_EQ(device_free[i], device_free[0]) << "step " << i + 3;
  }
}

}  // namespace
}  // namespace r50
