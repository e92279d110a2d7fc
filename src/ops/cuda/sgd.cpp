// The SGD update on the GPU: kernels/sgd.cu, elementwise, one tensor per launch or many.
#include "kernels.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {
namespace {

kernels::SgdUpdate sgd_update(const SgdParams& params) {
  return {params.lr, params.momentum, params.weight_decay, params.dampening, params.nesterov};
}

float* momentum_buffer_data(const Tensor& momentum_buffer, const SgdParams& params) {
  return params.momentum != 0.0f ? momentum_buffer.data_as<float>() : nullptr;
}

}  // namespace

void CudaBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                           const SgdParams& params, bool first_step) {
  check_sgd_step(param, grad, momentum_buffer, params, device());
  R50_CUDA_CHECK(kernels::sgd_step(param.data_as<float>(), grad.data_as<float>(),
                                   momentum_buffer_data(momentum_buffer, params), param.numel(),
                                   sgd_update(params), first_step, stream_));
}

void CudaBackend::sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params) {
  // Every entry is checked before anything is enqueued, so a bad entry updates nothing.
  sgd_tensors_.clear();
  for (const SgdTensors& entry : tensors) {
    check_sgd_step(entry.param, entry.grad, entry.momentum_buffer, params, device());
    sgd_tensors_.push_back({entry.param.data_as<float>(), entry.grad.data_as<float>(),
                            momentum_buffer_data(entry.momentum_buffer, params),
                            entry.param.numel(), entry.first_step});
  }
  R50_CUDA_CHECK(kernels::sgd_step_all(sgd_tensors_.data(), static_cast<int>(sgd_tensors_.size()),
                                       sgd_update(params), stream_));
}

}  // namespace r50
