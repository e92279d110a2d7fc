// Max pooling and global average pooling on the GPU: kernels/pooling.cu, on NCHW or NHWC tensors.
#include "kernels.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {
namespace {

int kernel_size(std::int64_t size) {
  R50_CHECK(size <= INT32_MAX, "pooling: a dimension of ", size, " is beyond the kernels' sizes");
  return static_cast<int>(size);
}

}  // namespace

void CudaBackend::max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& params) {
  check_max_pool2d_forward(x, y, params, device());
  R50_CUDA_CHECK(kernels::max_pool2d_forward(
      x.data(), y.data(), storage_of(x), order_of(x), kernel_size(x.dim(0)), kernel_size(x.dim(1)),
      kernel_size(x.dim(2)), kernel_size(x.dim(3)), kernel_size(y.dim(2)), kernel_size(y.dim(3)),
      params.kernel, params.stride, params.padding, stream_));
}

void CudaBackend::max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& dy,
                                      const Tensor& dx, const Pool2dParams& params) {
  check_max_pool2d_backward(x, y, dy, dx, params, device());
  R50_CUDA_CHECK(kernels::max_pool2d_backward(
      x.data(), y.data(), dy.data(), dx.data(), storage_of(x), order_of(x), kernel_size(x.dim(0)),
      kernel_size(x.dim(1)), kernel_size(x.dim(2)), kernel_size(x.dim(3)), kernel_size(y.dim(2)),
      kernel_size(y.dim(3)), params.kernel, params.stride, params.padding, stream_));
}

// y and dy are [N, C] row-major; x and dx in either layout.
void CudaBackend::global_avg_pool_forward(const Tensor& x, const Tensor& y) {
  check_global_avg_pool_forward(x, y, device());
  R50_CUDA_CHECK(kernels::global_avg_pool_forward(x.data(), y.data(), storage_of(x), order_of(x),
                                                  kernel_size(x.dim(0)), kernel_size(x.dim(1)),
                                                  x.dim(2) * x.dim(3), stream_));
}

void CudaBackend::global_avg_pool_backward(const Tensor& dy, const Tensor& dx) {
  check_global_avg_pool_backward(dy, dx, device());
  R50_CUDA_CHECK(kernels::global_avg_pool_backward(
      dy.data(), dx.data(), storage_of(dx), order_of(dx), kernel_size(dx.dim(0)),
      kernel_size(dx.dim(1)), dx.dim(2) * dx.dim(3), stream_));
}

}  // namespace r50
