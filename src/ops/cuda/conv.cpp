// Convolutions on the GPU: the arguments checked here, the work done by cuDNN (cudnn_conv.cpp).
#include "ops/cuda/cuda_backend.h"
#include "ops/op_checks.h"

namespace r50 {

void CudaBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& y,
                                 const Conv2dParams& params) {
  check_conv2d_forward(x, w, y, params, device());
  convolutions_->forward(x, w, y, params);
}

void CudaBackend::conv2d_backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx,
                                       const Conv2dParams& params, bool accumulate) {
  check_conv2d_backward_data(dy, w, dx, params, device());
  convolutions_->backward_data(dy, w, dx, params, accumulate);
}

void CudaBackend::conv2d_backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                                         const Conv2dParams& params) {
  check_conv2d_backward_filter(x, dy, dw, params, device());
  convolutions_->backward_filter(x, dy, dw, params);
}

}  // namespace r50
