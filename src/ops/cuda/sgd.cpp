// The SGD update on the GPU: kernels/sgd.cu, elementwise, one tensor per launch or many.
#include "kernels.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {
namespace {

kernels::SgdUpdate sgd_update(const SgdParams& params) {
  kernels::SgdUpdate update;
  update.lr = params.lr;
  update.momentum = params.momentum;
  update.weight_decay = params.weight_decay;
  update.dampening = params.dampening;
  update.grad_scale = params.grad_scale;
  update.nesterov = params.nesterov;
  return update;
}

float* momentum_buffer_data(const Tensor& momentum_buffer, const SgdParams& params) {
  return params.momentum != 0.0f ? momentum_buffer.data_as<float>() : nullptr;
}

}  // namespace

void CudaBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                           const SgdParams& params, bool first_step) {
  check_sgd_step(param, grad, momentum_buffer, params, device());
  R50_CUDA_CHECK(kernels::sgd_step(param.data_as<float>(), grad.data(),
                                   momentum_buffer_data(momentum_buffer, params), storage_of(grad),
                                   param.numel(), sgd_update(params), first_step, stream_));
}

void CudaBackend::sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params) {
  // Every entry is checked before anything is enqueued, so a bad entry updates nothing.
  sgd_tensors_.clear();
  for (const SgdTensors& entry : tensors) {
    check_sgd_tensors(entry, params, device());
    const bool has_copy = entry.compute_copy.defined() && entry.compute_copy.numel() > 0;
    kernels::SgdTensor tensor;
    tensor.param = entry.param.data_as<float>();
    tensor.grad = entry.grad.data();
    tensor.momentum_buffer = momentum_buffer_data(entry.momentum_buffer, params);
    tensor.compute_copy = has_copy ? entry.compute_copy.data() : nullptr;
    tensor.count = entry.param.numel();
    tensor.grad_storage = storage_of(entry.grad);
    tensor.compute_storage = has_copy ? storage_of(entry.compute_copy) : kernels::Storage::F32;
    tensor.first_step = entry.first_step;
    sgd_tensors_.push_back(tensor);
  }
  R50_CUDA_CHECK(kernels::sgd_step_all(sgd_tensors_.data(), static_cast<int>(sgd_tensors_.size()),
                                       sgd_update(params), stream_));
}

}  // namespace r50
