#include "train/train_step.h"

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
  loss_scale_.emplace(loss_scale);
  found_non_finite_ = OwnedTensor(model.backend().allocator(), {1}, DType::F32, model.backend().device());
  for (const Parameter* parameter : model.parameters()) gradients_.push_back(parameter->grad);
}

void TrainStep::forward_backward(const Tensor& images, const Tensor& labels, BatchNormMode mode,
                                 StepTimer* timer) {
  Backend& backend = model_.backend();
  logits_ = &model_.forward(images, mode);
  if (probs_.shape() != logits_->shape()) {
    probs_ = OwnedTensor(backend.allocator(), logits_->shape(), DType::F32, backend.device());
    dlogits_ = OwnedTensor(backend.allocator(), logits_->shape(), logits_->dtype(), backend.device());
  }
  LayerObserver* observer = model_.observer();
  observed(observer, kLoss, Pass::Forward,
           [&] { backend.softmax_cross_entropy_forward(*logits_, labels, probs_, loss_); });
  if (timer) timer->forward_done();
  observed(observer, kLoss, Pass::Backward,
           [&] { backend.softmax_cross_entropy_backward(probs_, labels, dlogits_, loss_scale()); });
  model_.backward(dlogits_);
  if (timer) timer->backward_done();
}

bool TrainStep::gradients_overflowed() {
  R50_CHECK(loss_scale_, "TrainStep: the overflow test belongs to fp16's loss scaling, which this step has not");
  Backend& backend = model_.backend();
  backend.fill(found_non_finite_, 0.0f);
  backend.find_non_finite(gradients_, found_non_finite_);
  float found = 0.0f;
  backend.copy_to_host(&found, found_non_finite_);
  return found != 0.0f;
}

bool TrainStep::apply_sgd() {
  Backend& backend = model_.backend();
  bool updated = true;
  observed(model_.observer(), kOptimizer, Pass::Backward, [&] {
    if (loss_scale_) {
      const bool overflow = gradients_overflowed();
      const float scale = loss_scale_->scale();
      loss_scale_->update(overflow);
      if (overflow) {
        updated = false;
        return;
      }
      sgd_.grad_scale = 1.0f / scale;
    }
    sgd_tensors_.clear();
    for (const Parameter* parameter : model_.parameters()) {
      sgd_tensors_.push_back({parameter->value, parameter->grad, parameter->momentum,
                              !parameter->momentum_initialized,
                              parameter->has_compute_copy ? parameter->compute_copy.tensor() : Tensor()});
    }
    backend.sgd_step_all(sgd_tensors_, sgd_);
    for (Parameter* parameter : model_.parameters()) parameter->momentum_initialized = true;
  });
  return updated;
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

}  // namespace r50
