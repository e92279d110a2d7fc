// defines: TrainStep
#pragma once

#include <cstdint>
#include <vector>

#include "model/resnet50.h"
#include "train/step_timer.h"

namespace r50 {

// One training step of ResNet-50: forward, softmax cross-entropy (mean over the batch), backward
// and torch.optim.SGD's update of every parameter. Images are normalised [N, 3, H, W], F32 or the
// model's compute dtype, and labels I32 [N], both on the model's device.
//
// A model that computes in F16 gets dynamic loss scaling, as torch.amp.GradScaler with its
// defaults runs it beside a fused optimizer: the scale lives on the device (DeviceLossScale), the
// loss's gradient starts at it instead of 1, every gradient is tested for infinities and NaNs,
// and a step where one is found updates nothing and is counted; the update reads the gradients
// divided by the scale. Nothing is read back to the host, so the step can be recorded in a CUDA
// graph. Momentum starts at the first update that happens, on the device: a parameter's
// momentum_initialized then says that the device keeps that count. BF16 has fp32's range and
// needs no scaling, as with torch.autocast.
class TrainStep {
 public:
  TrainStep(ResNet50& model, const SgdParams& sgd, const LossScaleParams& loss_scale = {});

  // Forward, loss and backward: leaves every parameter's gradient (times the loss scale), updates
  // nothing but the batch-norm running statistics (under batch statistics, as torch's forward
  // does). With a timer, marks the end of the forward (and loss) and of the backward.
  void forward_backward(const Tensor& images, const Tensor& labels, BatchNormMode mode,
                        StepTimer* timer = nullptr);
  // The SGD update from the gradients of the last forward_backward; under loss scaling, unless
  // they overflowed, which the device decides.
  void apply_sgd();
  // forward_backward under batch statistics, then apply_sgd; with a timer, times its phases.
  void run(const Tensor& images, const Tensor& labels, StepTimer* timer = nullptr);

  // Dynamic loss scaling: whether this step uses it, the scale of the next step (1 without it),
  // and the steps it skipped so far. The last two wait for the device and read its state back.
  bool scales_loss() const { return scales_loss_; }
  float loss_scale() const;
  std::int64_t skipped_steps() const;
  // Under loss scaling: whether the gradients of the last backward hold an infinity or NaN
  // (tested again, and one value read back from the device).
  bool gradients_overflowed();

  // The last forward's loss; waits for the device.
  float loss() const;
  // The same, F32 [1] on the device, for whoever reads it later (LossWatch).
  const Tensor& loss_tensor() const { return loss_; }
  // The last forward's logits and softmax (F32 [N, classes]), on the device. A replayed graph
  // (graph_step.h) writes the captured step's, which these name until a batch of another shape
  // runs eagerly.
  const Tensor& logits() const { return *logits_; }
  const Tensor& probabilities() const { return loss_buffers_.at(current_).probs; }
  const SgdParams& sgd() const { return sgd_; }
  ResNet50& model() const { return model_; }

 private:
  float loss_scale_slot(LossScaleSlot slot) const;  // one value of the state, read back

  ResNet50& model_;
  SgdParams sgd_;
  // The loss's buffers for one shape of logits. Each shape keeps its own for the step's lifetime:
  // a captured step (graph_step.h) writes into the same memory at every replay, whatever shapes
  // ran eagerly in between.
  struct LossBuffers {
    OwnedTensor probs, dlogits;
  };
  const LossBuffers& loss_buffers_for(const Tensor& logits);

  const Tensor* logits_ = nullptr;
  OwnedTensor loss_;
  std::vector<LossBuffers> loss_buffers_;
  std::size_t current_ = 0;  // the last forward's entry in loss_buffers_
  std::vector<SgdTensors> sgd_tensors_;  // apply_sgd's entries, reused: no allocation per step
  bool scales_loss_ = false;
  LossScaleParams loss_scale_params_;
  OwnedTensor loss_scale_state_;  // F32 [kLossScaleSlots] (DeviceLossScale::state)
  OwnedTensor found_non_finite_;  // F32 [1]
  std::vector<Tensor> gradients_;
};

}  // namespace r50
