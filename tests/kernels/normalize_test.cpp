// The normalize_images kernel against the CPU backend's op, on an odd-sized batch.
#include <cmath>
#include <cstdint>
#include <vector>

#include <cuda_runtime.h>  // the typed cudaMalloc(T**, size_t) overload
#include <gtest/gtest.h>

#include "core/rng.h"
#include "gpu_skip.h"
#include "kernels.h"
#include "ops/backend.h"
#include "ops/cuda/cuda_check.h"

namespace r50 {
namespace {

TEST(NormalizeKernel, MatchesCpuBackendOnOddShape) {
  R50_REQUIRE_GPU_OR_SKIP();
  const int n = 3, h = 17, w = 29;
  std::vector<std::uint8_t> images(static_cast<std::size_t>(n) * h * w * 3);
  Rng rng(7);
  for (auto& value : images) value = static_cast<std::uint8_t>(rng.below(256));

  std::vector<float> expected(images.size());
  auto cpu = make_cpu_backend(1);
  cpu->normalize_images(Tensor(images.data(), {n, h, w, 3}, DType::U8),
                        Tensor(expected.data(), {n, 3, h, w}, DType::F32), kImageNetMean, kImageNetStd);

  std::uint8_t* device_images = nullptr;
  float* device_out = nullptr;
  R50_CUDA_CHECK(cudaMalloc(&device_images, images.size()));
  R50_CUDA_CHECK(cudaMalloc(&device_out, expected.size() * sizeof(float)));
  R50_CUDA_CHECK(cudaMemcpy(device_images, images.data(), images.size(), cudaMemcpyHostToDevice));
  R50_CUDA_CHECK(cudaMemset(device_out, 0xFF, expected.size() * sizeof(float)));  // NaN poison
  R50_CUDA_CHECK(kernels::normalize_images(device_images, device_out, n, h, w, kImageNetMean.data(),
                                           kImageNetStd.data(), nullptr));
  std::vector<float> actual(expected.size());
  R50_CUDA_CHECK(cudaMemcpy(actual.data(), device_out, actual.size() * sizeof(float), cudaMemcpyDeviceToHost));
  R50_CUDA_CHECK(cudaFree(device_images));
  R50_CUDA_CHECK(cudaFree(device_out));

  // Both compute value·scale + shift in fp32 or its reordering: a few ulp of values up to ~2.7.
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_NEAR(actual[i], expected[i], 1e-6f + 1e-6f * std::fabs(expected[i])) << "element " << i;
  }
}

}  // namespace
}  // namespace r50
