#include "train/train_step.h"

namespace r50 {

TrainStep::TrainStep(ResNet50& model, const SgdParams& sgd)
    : model_(model),
      sgd_(sgd),
      loss_(model.backend().allocator(), {1}, DType::F32, model.backend().device()) {}

void TrainStep::forward_backward(const Tensor& images, const Tensor& labels, BatchNormMode mode) {
  Backend& backend = model_.backend();
  logits_ = &model_.forward(images, mode);
  if (probs_.shape() != logits_->shape()) {
    probs_ = OwnedTensor(backend.allocator(), logits_->shape(), DType::F32, backend.device());
    dlogits_ = OwnedTensor(backend.allocator(), logits_->shape(), DType::F32, backend.device());
  }
  backend.softmax_cross_entropy_forward(*logits_, labels, probs_, loss_);
  backend.softmax_cross_entropy_backward(probs_, labels, dlogits_, 1.0f);
  model_.backward(dlogits_);
}

void TrainStep::apply_sgd() {
  Backend& backend = model_.backend();
  for (Parameter* parameter : model_.parameters()) {
    backend.sgd_step(parameter->value, parameter->grad, parameter->momentum, sgd_,
                     !parameter->momentum_initialized);
    parameter->momentum_initialized = true;
  }
}

void TrainStep::run(const Tensor& images, const Tensor& labels) {
  forward_backward(images, labels, BatchNormMode::BatchStatistics);
  apply_sgd();
}

float TrainStep::loss() const {
  float value = 0.0f;
  model_.backend().copy_to_host(&value, loss_);
  return value;
}

}  // namespace r50
