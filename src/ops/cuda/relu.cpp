// ReLU on the GPU: kernels/relu.cu, elementwise.
#include "kernels.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {

void CudaBackend::relu_forward(const Tensor& x, const Tensor& y) {
  check_relu_forward(x, y, device());
  R50_CUDA_CHECK(kernels::relu_forward(x.data(), y.data(), storage_of(x), x.numel(), stream_));
}

void CudaBackend::relu_backward(const Tensor& y, const Tensor& dy, const Tensor& dx) {
  check_relu_backward(y, dy, dx, device());
  R50_CUDA_CHECK(kernels::relu_backward(y.data(), dy.data(), dx.data(), storage_of(y), y.numel(),
                                        stream_));
}

}  // namespace r50
