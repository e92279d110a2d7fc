// Conversions between floating dtypes and the overflow test of dynamic loss scaling on the GPU:
// kernels/cast.cu.
#include <vector>

#include "kernels.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {

void CudaBackend::cast(const Tensor& src, const Tensor& dst, float scale) {
  check_cast(src, dst, device());
  R50_CUDA_CHECK(kernels::cast(src.data(), dst.data(), storage_of(src), storage_of(dst),
                               src.numel(), scale, stream_));
}

void CudaBackend::find_non_finite(const std::vector<Tensor>& tensors, const Tensor& found) {
  check_find_non_finite(tensors, found, device());
  std::vector<kernels::NonFiniteTensor> table;
  table.reserve(tensors.size());
  for (const Tensor& tensor : tensors) {
    table.push_back({tensor.data(), tensor.numel(), storage_of(tensor)});
  }
  R50_CUDA_CHECK(kernels::find_non_finite(table.data(), static_cast<int>(table.size()),
                                          found.data_as<float>(), stream_));
}

}  // namespace r50
