// The input path on the CPU backend: loader, upload, normalisation, epoch after epoch.
#include <gtest/gtest.h>

#include <filesystem>

#include "memory/host_allocator.h"
#include "train/input_pipeline_check.h"

namespace r50 {
namespace {

TEST(InputPipeline, DeliversEveryImageOnceAnEpochNormalisedUnderItsLabel) {
  const auto backend = make_cpu_backend(2);
  HostAllocator host_memory;
  expect_epochs_arrive_normalised(*backend, host_memory,
                                  std::filesystem::temp_directory_path() / "r50_input_pipeline_cpu");
}

}  // namespace
}  // namespace r50
