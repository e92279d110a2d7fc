// The choice of cuDNN API for the CUDA backend's convolutions (--cudnn-api): its names, the default,
// the CPU backend's refusal of the graph API (these run without a GPU), and on a GPU what the graph
// API's backend reports it ran: its own engines, and the legacy API for the backward data that
// adds into its output (cudnn_graph.cpp says why).
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backends/cuda_backend_for_tests.h"
#include "gpu_skip.h"
#include "memory/buffer.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/select_backend.h"

namespace r50 {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CudnnApi, EachNameParsesBackToItsApi) {
  EXPECT_STREQ(cudnn_api_name(CudnnApi::Legacy), "legacy");
  EXPECT_STREQ(cudnn_api_name(CudnnApi::Graph), "graph");
  for (const CudnnApi api : {CudnnApi::Legacy, CudnnApi::Graph}) EXPECT_EQ(parse_cudnn_api(cudnn_api_name(api)), api);
}

TEST(CudnnApi, AnUnknownNameIsAnErrorThatNamesTheChoices) {
  try {
    parse_cudnn_api("vulkan");
    FAIL() << "'vulkan' was accepted";
  } catch (const Error& error) {
    EXPECT_TRUE(contains(error.what(), "unknown cuDNN API 'vulkan': expected legacy or graph")) << error.what();
  }
}

TEST(CudnnApi, TheLegacyApiIsTheDefault) {
  EXPECT_EQ(BackendOptions{}.cudnn_api, CudnnApi::Legacy);
}

TEST(CudnnApi, TheCpuBackendRefusesTheGraphApiItHasNoCudnnFor) {
  BackendOptions options;
  options.choice = BackendChoice::Cpu;
  options.threads = 1;
  options.cudnn_api = CudnnApi::Graph;
  std::ostringstream log;
  try {
    select_backend(options, log);
    FAIL() << "the cpu backend accepted --cudnn-api graph";
  } catch (const Error& error) {
    EXPECT_TRUE(contains(error.what(), "--cudnn-api graph: the cpu backend has no cuDNN")) << error.what();
  }
  options.cudnn_api = CudnnApi::Legacy;
  EXPECT_EQ(select_backend(options, log)->name(), "cpu");
}

// One convolution shape in each direction, backward data both overwriting and accumulating, on a
// graph API backend of its own (so that its choices are this test's alone). "Conv" in the name keeps
// it out of device_check.sh's memcheck, which leaves cuDNN's kernels to their makers.
TEST(CudnnGraphApiConvolutions, ReportTheirEnginesAndTheLegacyApiForTheAccumulatingBackwardData) {
  R50_REQUIRE_GPU_OR_SKIP();
  CudaBackendOptions options;
  options.cudnn_api = CudnnApi::Graph;
  CudaBackend backend(options);
  EXPECT_EQ(backend.cudnn_api(), CudnnApi::Graph);
  const Conv2dParams params{1, 1};
  const Shape x_shape{2, 16, 10, 10}, w_shape{32, 16, 3, 3};
  const Shape y_shape = conv2d_output_shape(x_shape, w_shape, params);
  const auto tensor = [&](const Shape& shape) {
    OwnedTensor owned(backend.allocator(), shape, DType::F32, backend.device());
    backend.fill(owned, 0.5f);
    return owned;
  };
  const OwnedTensor x = tensor(x_shape), w = tensor(w_shape), y = tensor(y_shape);
  backend.conv2d_forward(x, w, y, params);
  backend.conv2d_backward_data(y, w, x, params, false);
  backend.conv2d_backward_data(y, w, x, params, true);
  backend.conv2d_backward_filter(x, y, w, params);
  backend.synchronize();

  std::vector<std::string> seen;
  for (const ConvAlgorithmChoice& choice : backend.convolution_choices()) {
    const bool legacy = choice.algorithm.rfind("legacy API: ", 0) == 0;
    seen.push_back(std::string(conv_direction_name(choice.direction)) + (legacy ? " on the legacy API" : ""));
    EXPECT_GT(choice.algorithm.size(), legacy ? 12u : 0u) << "no engine named for " << seen.back();
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"forward", "backward_data", "backward_filter",
                                            "backward_data on the legacy API"}));
}

}  // namespace
}  // namespace r50
