// What a backend without CUDA graphs says when asked for one: the CPU backend runs its ops as they
// are called, so there is nothing to capture. (Capturing and replaying on a GPU:
// tests/backends/cuda_graph_test.cpp.)
#include "train/graph_step.h"

#include <string>

#include <gtest/gtest.h>

namespace r50 {
namespace {

TEST(GraphTrainStep, TheCpuBackendRefusesToCaptureSayingWhy) {
  const auto backend = make_cpu_backend(1);
  EXPECT_FALSE(backend->can_capture());
  try {
    backend->capture([] {});
    FAIL() << "the cpu backend captured";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("CUDA graphs need the CUDA backend; the cpu backend"),
              std::string::npos)
        << error.what();
  }
}

TEST(GraphTrainStep, RefusesABackendThatCannotCapture) {
  const auto backend = make_cpu_backend(1);
  ResNet50 model(*backend, 10);
  TrainStep step(model, SgdParams{});
  EXPECT_THROW(GraphTrainStep graph_step(step), Error);
}

}  // namespace
}  // namespace r50
