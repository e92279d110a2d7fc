// fp16 and bf16 mixed precision against torchvision's own autocast: our logits, loss and
// gradients (unscaled) under both batch-norm modes, each within twice the worst relative error
// from float64 that torch.autocast shows on the same weights and input (scripts/make_reference.py,
// amp_spread). On the CPU, bf16 against torchvision's CPU autocast in bfloat16, and fp16 against
// the same bound, since PyTorch's CPU autocast has no float16: fp16 carries three more bits and
// loss scaling keeps its gradients in range, so it must land no farther from float64 than bf16
// does. Not closer by the ratio of the unit roundoffs (2^-3): under batch statistics the errors
// of either saturate (torchvision's own bf16 spread is 0.3 on the logits), and fp16's scaled
// gradients lose bits to its subnormals. On a GPU, each against PyTorch's CUDA autocast in the same
// format, the sharp check, row-major and channels-last (on both of cuDNN's APIs): the layouts take
// different engines and kernels there, where on the CPU they give the same bits
// (tests/train/verify_test.cpp).
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "gpu_skip.h"
#include "torchvision/spread_check.h"

namespace r50 {
namespace {

TEST(MixedPrecisionCpu, Bf16WithinTwiceTorchvisionsBf16Autocast) {
  const std::unique_ptr<Backend> backend = make_cpu_backend(0);
  expect_within_spread(*backend, DType::BF16, "reference_bf16_spread.safetensors", 2.0, "bf16 autocast");
}

TEST(MixedPrecisionCpu, Fp16WithinTwiceTorchvisionsBf16Autocast) {
  const std::unique_ptr<Backend> backend = make_cpu_backend(0);
  expect_within_spread(*backend, DType::F16, "reference_bf16_spread.safetensors", 2.0, "bf16 autocast");
}

CudaBackendOptions cuda(Precision precision) {
  CudaBackendOptions options;
  options.precision = precision;
  return options;
}

TEST(MixedPrecisionCuda, Fp16WithinTwiceTorchvisionsFp16Autocast) {
  R50_REQUIRE_GPU_OR_SKIP();
  const std::unique_ptr<Backend> backend = make_cuda_backend(cuda(Precision::Fp16));
  expect_within_spread(*backend, DType::F16, "reference_fp16_cuda_spread.safetensors", 2.0, "fp16 autocast");
}

TEST(MixedPrecisionCuda, Bf16WithinTwiceTorchvisionsBf16AutocastOrRefusedBelowAmpere) {
  R50_REQUIRE_GPU_OR_SKIP();
  const DeviceInfo info = make_cuda_backend({})->device_info();
  if (info.compute_capability_major < 8) {
    EXPECT_THROW(make_cuda_backend(cuda(Precision::Bf16)), Error) << "bf16 accepted below compute capability 8.0";
    return;
  }
  const std::unique_ptr<Backend> backend = make_cuda_backend(cuda(Precision::Bf16));
  expect_within_spread(*backend, DType::BF16, "reference_bf16_cuda_spread.safetensors", 2.0, "bf16 autocast");
}

// Channels-last, the layout the fastest runs take, with the convolutions on each of cuDNN's APIs.
class MixedPrecisionCudaChannelsLast : public ::testing::TestWithParam<CudnnApi> {
 protected:
  std::unique_ptr<Backend> backend(Precision precision) {
    CudaBackendOptions options = cuda(precision);
    options.cudnn_api = GetParam();
    return make_cuda_backend(options);
  }
};

TEST_P(MixedPrecisionCudaChannelsLast, Fp16WithinTwiceTorchvisionsFp16Autocast) {
  R50_REQUIRE_GPU_OR_SKIP();
  expect_within_spread(*backend(Precision::Fp16), DType::F16, "reference_fp16_cuda_spread.safetensors", 2.0,
                       "fp16 autocast", Layout::ChannelsLast);
}

TEST_P(MixedPrecisionCudaChannelsLast, Bf16WithinTwiceTorchvisionsBf16Autocast) {
  R50_REQUIRE_GPU_OR_SKIP();
  if (!has_compute_capability_8_0(make_cuda_backend({})->device_info(), "bf16")) return;
  expect_within_spread(*backend(Precision::Bf16), DType::BF16, "reference_bf16_cuda_spread.safetensors", 2.0,
                       "bf16 autocast", Layout::ChannelsLast);
}

INSTANTIATE_TEST_SUITE_P(Apis, MixedPrecisionCudaChannelsLast, ::testing::Values(CudnnApi::Legacy, CudnnApi::Graph),
                         [](const ::testing::TestParamInfo<CudnnApi>& info) {
                           return std::string(info.param == CudnnApi::Graph ? "GraphApi" : "LegacyApi");
                         });

}  // namespace
}  // namespace r50
