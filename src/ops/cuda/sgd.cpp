// The SGD update on the GPU: kernels/sgd.cu, elementwise.
#include "kernels.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {

void CudaBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                           const SgdParams& params, bool first_step) {
  check_sgd_step(param, grad, momentum_buffer, params, device());
  const kernels::SgdUpdate update{params.lr,        params.momentum, params.weight_decay,
                                  params.dampening, params.nesterov, first_step};
  float* buffer = params.momentum != 0.0f ? momentum_buffer.data_as<float>() : nullptr;
  R50_CUDA_CHECK(kernels::sgd_step(param.data_as<float>(), grad.data_as<float>(), buffer,
                                   param.numel(), update, stream_));
}

}  // namespace r50
