// defines: TrainStep
#pragma once

#include <vector>

#include "model/resnet50.h"
#include "train/step_timer.h"

namespace r50 {

// One training step of ResNet-50: forward, softmax cross-entropy (mean over the batch), backward
// and torch.optim.SGD's update of every parameter. Images are normalised F32 [N, 3, H, W] and
// labels I32 [N], both on the model's device.
class TrainStep {
 public:
  TrainStep(ResNet50& model, const SgdParams& sgd);

  // Forward, loss and backward: leaves every parameter's gradient, updates nothing but the
  // batch-norm running statistics (under batch statistics, as torch's forward does). With a
  // timer, marks the end of the forward (and loss) and of the backward.
  void forward_backward(const Tensor& images, const Tensor& labels, BatchNormMode mode,
                        StepTimer* timer = nullptr);
  // The SGD update from the gradients of the last forward_backward.
  void apply_sgd();
  // forward_backward under batch statistics, then apply_sgd; with a timer, times its phases.
  void run(const Tensor& images, const Tensor& labels, StepTimer* timer = nullptr);

  // The last forward's loss; waits for the device.
  float loss() const;
  // The same, F32 [1] on the device, for whoever reads it later (LossWatch).
  const Tensor& loss_tensor() const { return loss_; }
  const Tensor& logits() const { return *logits_; }
  const SgdParams& sgd() const { return sgd_; }
  ResNet50& model() const { return model_; }

 private:
  ResNet50& model_;
  SgdParams sgd_;
  const Tensor* logits_ = nullptr;
  OwnedTensor probs_, loss_, dlogits_;
  std::vector<SgdTensors> sgd_tensors_;  // apply_sgd's entries, reused: no allocation per step
};

}  // namespace r50
