// The input normalisation on the GPU: kernels/normalize.cu, into NCHW or NHWC.
#include "kernels.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {

void CudaBackend::normalize_images(const Tensor& images, const Tensor& y,
                                   const std::array<float, 3>& mean,
                                   const std::array<float, 3>& std) {
  check_normalize_images(images, y, std, device());
  R50_CHECK(images.dim(0) <= INT32_MAX && images.dim(1) <= INT32_MAX && images.dim(2) <= INT32_MAX,
            "normalize_images: images ", images.shape().str(), " are beyond the kernel's sizes");
  R50_CUDA_CHECK(kernels::normalize_images(
      images.data_as<std::uint8_t>(), y.data(), storage_of(y), order_of(y),
      static_cast<int>(images.dim(0)), static_cast<int>(images.dim(1)),
      static_cast<int>(images.dim(2)), mean.data(), std.data(), stream_));
}

}  // namespace r50
