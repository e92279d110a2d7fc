// uint8 RGB images [N, H, W, 3] to normalised float [N, 3, H, W], in the affine form
// kernels/normalize.cu uses, y = value·(1 / (255·std)) + (-mean / std), so that both backends
// round the same way.
#include <cstdint>

#include "ops/cpu/cpu_backend.h"
#include "ops/cpu/f32_staging.h"

namespace r50 {

void CpuBackend::normalize_images(const Tensor& images, const Tensor& y,
                                  const std::array<float, 3>& mean,
                                  const std::array<float, 3>& std) {
  check_normalize_images(images, y, std, device());
  if (F32Staging::needed(y, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    normalize_images(images, f32.output(y), mean, std);
    f32.finish();
    return;
  }
  const std::int64_t N = images.dim(0), H = images.dim(1), W = images.dim(2), HW = H * W;
  float scale[3], shift[3];
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.0f / (255.0f * std[c]);
    shift[c] = -mean[c] / std[c];
  }
  const std::uint8_t* in = images.data_as<std::uint8_t>();
  float* out = y.data_as<float>();
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (std::int64_t plane = 0; plane < N * 3; ++plane) {  // plane = n·3 + c
    const std::int64_t n = plane / 3;
    const int c = static_cast<int>(plane % 3);
    const std::uint8_t* pixels = in + n * HW * 3 + c;
    float* channel = out + plane * HW;
    for (std::int64_t i = 0; i < HW; ++i) channel[i] = pixels[i * 3] * scale[c] + shift[c];
  }
}

}  // namespace r50
