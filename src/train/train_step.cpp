#include "train/train_step.h"

#include <array>

#include "ops/op_checks.h"

namespace r50 {
namespace {

// The names the per-layer profile gives the loss and the update (train/layer_profile.h).
const std::string kLoss = "loss", kOptimizer = "optimizer";

}  // namespace

TrainStep::TrainStep(ResNet50& model, const SgdParams& sgd, const LossScaleParams& loss_scale)
    : model_(model),
      sgd_(sgd),
      loss_(model.backend().allocator(), {1}, DType::F32, model.backend().device()) {
  if (model.compute_dtype() != DType::F16) return;
  check_loss_scale_params(loss_scale);
  Backend& backend = model.backend();
  scales_loss_ = true;
  loss_scale_params_ = loss_scale;
  loss_scale_state_ = OwnedTensor(backend.allocator(), {kLossScaleSlots}, DType::F32, backend.device());
  const std::array<float, kLossScaleSlots> state = {loss_scale.initial, 0.0f, 0.0f, 0.0f};
  backend.copy_from_host(loss_scale_state_, state.data());
  found_non_finite_ = OwnedTensor(backend.allocator(), {1}, DType::F32, backend.device());
  for (const Parameter* parameter : model.parameters()) gradients_.push_back(parameter->grad);
}

const TrainStep::LossBuffers& TrainStep::loss_buffers_for(const Tensor& logits) {
  for (current_ = 0; current_ < loss_buffers_.size(); ++current_) {
    if (loss_buffers_[current_].probs.shape() == logits.shape()) return loss_buffers_[current_];
  }
  Backend& backend = model_.backend();
  loss_buffers_.push_back({OwnedTensor(backend.allocator(), logits.shape(), DType::F32, backend.device()),
                           OwnedTensor(backend.allocator(), logits.shape(), logits.dtype(), backend.device())});
  return loss_buffers_.back();
}

void TrainStep::forward_backward(const Tensor& images, const Tensor& labels, BatchNormMode mode,
                                 StepTimer* timer) {
  Backend& backend = model_.backend();
  logits_ = &model_.forward(images, mode);
  const LossBuffers& buffers = loss_buffers_for(*logits_);
  const Tensor& probs = buffers.probs;
  const Tensor& dlogits = buffers.dlogits;
  LayerObserver* observer = model_.observer();
  observed(observer, kLoss, Pass::Forward,
           [&] { backend.softmax_cross_entropy_forward(*logits_, labels, probs, loss_); });
  if (timer) timer->forward_done();
  observed(observer, kLoss, Pass::Backward, [&] {
    if (scales_loss_) {
      const Tensor scale = loss_scale_state_.tensor().slice(kLossScale, kLossScale + 1);
      backend.softmax_cross_entropy_backward(probs, labels, dlogits, scale);
    } else {
      backend.softmax_cross_entropy_backward(probs, labels, dlogits, 1.0f);
    }
  });
  model_.backward(dlogits);
  if (timer) timer->backward_done();
}

bool TrainStep::gradients_overflowed() {
  R50_CHECK(scales_loss_, "TrainStep: the overflow test belongs to fp16's loss scaling, which this step has not");
  Backend& backend = model_.backend();
  backend.fill(found_non_finite_, 0.0f);
  backend.find_non_finite(gradients_, found_non_finite_);
  float found = 0.0f;
  backend.copy_to_host(&found, found_non_finite_);
  return found != 0.0f;
}

void TrainStep::apply_sgd() {
  Backend& backend = model_.backend();
  observed(model_.observer(), kOptimizer, Pass::Backward, [&] {
    bool momentum_restarts = false;
    sgd_tensors_.clear();
    for (const Parameter* parameter : model_.parameters()) {
      momentum_restarts = momentum_restarts || !parameter->momentum_initialized;
      sgd_tensors_.push_back({parameter->value, parameter->grad, parameter->momentum,
                              !parameter->momentum_initialized,
                              parameter->has_compute_copy ? parameter->compute_copy.tensor() : Tensor()});
    }
    if (!scales_loss_) {
      backend.sgd_step_all(sgd_tensors_, sgd_);
    } else {
      // init and load_state_dict restart every parameter's momentum together: the next update
      // that happens is the first.
      const Tensor& state = loss_scale_state_.tensor();
      if (momentum_restarts) backend.fill(state.slice(kUpdatesApplied, kUpdatesApplied + 1), 0.0f);
      backend.fill(found_non_finite_, 0.0f);
      backend.find_non_finite(gradients_, found_non_finite_);
      const DeviceLossScale loss_scale{state, found_non_finite_};
      backend.sgd_step_all(sgd_tensors_, sgd_, loss_scale);
      backend.update_loss_scale(loss_scale, loss_scale_params_);
    }
    for (Parameter* parameter : model_.parameters()) parameter->momentum_initialized = true;
  });
}

void TrainStep::run(const Tensor& images, const Tensor& labels, StepTimer* timer) {
  if (timer) timer->start();
  forward_backward(images, labels, BatchNormMode::BatchStatistics, timer);
  apply_sgd();
  if (timer) timer->finish();
}

float TrainStep::loss() const {
  float value = 0.0f;
  model_.backend().copy_to_host(&value, loss_);
  return value;
}

float TrainStep::loss_scale_slot(LossScaleSlot slot) const {
  float value = 0.0f;
  model_.backend().copy_to_host(&value, loss_scale_state_.tensor().slice(slot, slot + 1));
  return value;
}

float TrainStep::loss_scale() const { return scales_loss_ ? loss_scale_slot(kLossScale) : 1.0f; }

std::int64_t TrainStep::skipped_steps() const {
  return scales_loss_ ? static_cast<std::int64_t>(loss_scale_slot(kSkippedSteps)) : 0;
}

}  // namespace r50
