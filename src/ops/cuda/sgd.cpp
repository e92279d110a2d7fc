// The SGD update on the GPU: kernels/sgd.cu, elementwise, one tensor per launch or many; and
// fp16's loss scale kept on the device: kernels/loss_scale.cu.
#include "kernels.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {
namespace {

static_assert(kernels::kStateScale == kLossScale && kernels::kStateCleanSteps == kCleanSteps &&
                  kernels::kStateSkippedSteps == kSkippedSteps && kernels::kStateUpdatesApplied == kUpdatesApplied,
              "the kernels read the loss scale's state in LossScaleSlot's order");

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
  launch_sgd_step_all(tensors, params, sgd_update(params));
}

void CudaBackend::sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params,
                               const DeviceLossScale& loss_scale) {
  check_sgd_step_all_under_loss_scale(params, loss_scale, device());
  kernels::SgdUpdate update = sgd_update(params);
  update.loss_scale_state = loss_scale.state.data_as<float>();
  update.found_non_finite = loss_scale.found.data_as<float>();
  launch_sgd_step_all(tensors, params, update);
}

void CudaBackend::update_loss_scale(const DeviceLossScale& loss_scale, const LossScaleParams& params) {
  check_update_loss_scale(loss_scale, params, device());
  R50_CUDA_CHECK(kernels::update_loss_scale(loss_scale.state.data_as<float>(), loss_scale.found.data_as<float>(),
                                            params.growth_factor, params.backoff_factor, params.growth_interval,
                                            stream_));
}

void CudaBackend::launch_sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params,
                                      const kernels::SgdUpdate& update) {
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
  R50_CUDA_CHECK(kernels::sgd_step_all(sgd_tensors_.data(), static_cast<int>(sgd_tensors_.size()), update,
                                       stream_));
}

}  // namespace r50
