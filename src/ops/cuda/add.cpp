// The residual add on the GPU: kernels/add.cu, elementwise.
#include "kernels.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {

void CudaBackend::add(const Tensor& a, const Tensor& b, const Tensor& y) {
  check_add(a, b, y, device());
  R50_CUDA_CHECK(kernels::add(a.data(), b.data(), y.data(), storage_of(a), a.numel(), stream_));
}

}  // namespace r50
