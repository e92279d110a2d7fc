// The input path on the GPU: batches in pinned memory, uploaded on the copy stream while the step
// before computes, normalised on the device.
#include <gtest/gtest.h>

#include <filesystem>

#include "backends/cuda_backend_for_tests.h"
#include "gpu_skip.h"
#include "memory/cuda_memory.h"
#include "train/input_pipeline_check.h"

namespace r50 {
namespace {

TEST(CudaInputPipeline, DeliversEveryImageOnceAnEpochNormalisedUnderItsLabel) {
  R50_REQUIRE_GPU_OR_SKIP();
  const auto pinned = make_pinned_host_allocator();
  expect_epochs_arrive_normalised(cuda(), *pinned,
                                  std::filesystem::temp_directory_path() / "r50_input_pipeline_cuda");
}

}  // namespace
}  // namespace r50
