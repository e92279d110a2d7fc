// The CUDA backend checks what it is given as the CPU backend does (src/ops/op_checks.h): a host
// tensor or a shape mismatch is an r50::Error naming the op, the argument and both sides, thrown
// before anything is enqueued.
#include <gtest/gtest.h>

#include "backends/cuda_backend_for_tests.h"
#include "gpu_skip.h"
#include "memory/buffer.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;

OwnedTensor on_gpu(const Shape& shape) {
  return OwnedTensor(cuda().allocator(), shape, DType::F32, cuda().device());
}

TEST(CudaBackendChecks, HostInputNamesTheOpTheArgumentAndBothDevices) {
  R50_REQUIRE_GPU_OR_SKIP();
  HostTensor<float> x({2, 3, 8, 8});
  const OwnedTensor w = on_gpu({4, 3, 3, 3}), y = on_gpu({2, 4, 8, 8});
  EXPECT_TRUE(throws_naming(
      [&] {
        cuda().conv2d_forward(x.view(), w, y, {1, 1});
      },
      {"conv2d_forward", "x", "on cpu", "cuda:0"}));
}

TEST(CudaBackendChecks, HostOutputNamesTheOpTheArgumentAndBothDevices) {
  R50_REQUIRE_GPU_OR_SKIP();
  const OwnedTensor x = on_gpu({3, 5});
  HostTensor<float> y({3, 5});
  EXPECT_TRUE(throws_naming([&] { cuda().relu_forward(x, y.view()); },
                            {"relu_forward", "y", "on cpu", "cuda:0"}));
}

TEST(CudaBackendChecks, HostDestinationOfACopyIsRefused) {
  R50_REQUIRE_GPU_OR_SKIP();
  HostTensor<float> host({3, 5});
  EXPECT_TRUE(throws_naming([&] { cuda().copy_from_host(host.view(), host.data()); },
                            {"copy_from_host", "dst", "on cpu", "cuda:0"}));
}

TEST(CudaBackendChecks, ConvolutionOutputOfTheWrongShapeNamesBothShapes) {
  R50_REQUIRE_GPU_OR_SKIP();
  const OwnedTensor x = on_gpu({2, 3, 8, 8}), w = on_gpu({4, 3, 3, 3}), y = on_gpu({2, 4, 7, 8});
  EXPECT_TRUE(throws_naming(
      [&] {
        cuda().conv2d_forward(x, w, y, {1, 1});
      },
      {"conv2d_forward", "y", "[2, 4, 7, 8]", "[2, 4, 8, 8]"}));
}

TEST(CudaBackendChecks, AddOfTwoShapesNamesBoth) {
  R50_REQUIRE_GPU_OR_SKIP();
  const OwnedTensor a = on_gpu({2, 3}), b = on_gpu({3, 2}), y = on_gpu({2, 3});
  EXPECT_TRUE(throws_naming([&] { cuda().add(a, b, y); }, {"add", "b", "[3, 2]", "[2, 3]"}));
}

TEST(CudaBackendChecks, BatchNormChannelVectorOfTheWrongLengthNamesBothShapes) {
  R50_REQUIRE_GPU_OR_SKIP();
  const OwnedTensor x = on_gpu({2, 4, 3, 3}), y = on_gpu({2, 4, 3, 3}), gamma = on_gpu({5}),
                    v = on_gpu({4});
  EXPECT_TRUE(
      throws_naming([&] { cuda().batch_norm_forward_inference(x, gamma, v, v, v, y, 1e-5f); },
                    {"batch_norm_forward_inference", "gamma", "[5]", "[4]"}));
}

}  // namespace
}  // namespace r50
