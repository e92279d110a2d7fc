// --precision tf32 against torchvision's own TF32: the CUDA backend's logits, loss and gradients
// under both batch-norm modes, each within twice the worst relative error from float64 that
// PyTorch's TF32 shows on the same weights and input (scripts/make_reference.py, tf32_spread),
// row-major and channels-last (on each of cuDNN's APIs). On a GPU older than compute capability
// 8.0 the tf32 backend must be refused, clearly.
#include <string>

#include <gtest/gtest.h>

#include "gpu_skip.h"
#include "torchvision/spread_check.h"

namespace r50 {
namespace {

CudaBackendOptions tf32() {
  CudaBackendOptions options;
  options.precision = Precision::Tf32;
  return options;
}

TEST(Tf32, RefusedBelowAmpereAndWithinTwiceTorchvisionsTf32Above) {
  R50_REQUIRE_GPU_OR_SKIP();
  const DeviceInfo info = make_cuda_backend({})->device_info();
  if (info.compute_capability_major < 8) {
    try {
      make_cuda_backend(tf32());
      FAIL() << "tf32 was accepted on compute capability " << info.compute_capability();
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("--precision tf32 needs compute capability 8.0"), std::string::npos)
          << error.what();
    }
    return;
  }
  const std::unique_ptr<Backend> backend = make_cuda_backend(tf32());
  expect_within_spread(*backend, DType::F32, "reference_tf32_cuda_spread.safetensors", 2.0, "tf32");
}

// Channels-last, the layout the fastest tf32 runs take, with the convolutions on each of cuDNN's APIs.
TEST(Tf32, ChannelsLastWithinTwiceTorchvisionsTf32OnBothCudnnApis) {
  R50_REQUIRE_GPU_OR_SKIP();
  if (!has_compute_capability_8_0(make_cuda_backend({})->device_info(), "tf32")) return;
  for (const CudnnApi api : {CudnnApi::Legacy, CudnnApi::Graph}) {
    SCOPED_TRACE(api == CudnnApi::Graph ? "cuDNN's graph API" : "cuDNN's legacy API");
    CudaBackendOptions options = tf32();
    options.cudnn_api = api;
    expect_within_spread(*make_cuda_backend(options), DType::F32, "reference_tf32_cuda_spread.safetensors", 2.0,
                         "tf32", Layout::ChannelsLast);
  }
}

}  // namespace
}  // namespace r50
