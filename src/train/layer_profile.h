// defines: LayerTime, LayerProfile, profile_layers
#pragma once

#include <string>
#include <vector>

#include "train/train_step.h"

namespace r50 {

// One layer's device time per training step, with torchvision's module name (layer_observer.h),
// plus "loss" (softmax cross-entropy) and "optimizer" (the SGD update of every parameter).
struct LayerTime {
  std::string layer;
  double forward_ms = 0;
  double backward_ms = 0;

  double total_ms() const { return forward_ms + backward_ms; }
};

struct LayerProfile {
  int steps = 0;                  // profiled steps, after one unprofiled
  double step_ms = 0;             // a whole step, from the same device timer, per step
  std::vector<LayerTime> layers;  // per step, in the order the forward first reaches them

  double forward_ms() const;
  double backward_ms() const;  // the optimiser's time counts here
  // What the layers' marks do not cover: launch gaps, and the marks' own cost.
  double unaccounted_ms() const { return step_ms - forward_ms() - backward_ms(); }
  // The `count` layers with the most time, forward and backward together, slowest first.
  std::vector<LayerTime> slowest(std::size_t count) const;
};

// Runs one unprofiled step and then `steps` steps of `step` on (images, labels), each layer's
// work between marks of the backend's device timer (CUDA events on a GPU), and returns the mean
// per step. The device is synchronised after every profiled step to read the marks, so these
// steps run slower than a measured run's and are kept out of it; the shares are what they tell.
LayerProfile profile_layers(TrainStep& step, const Tensor& images, const Tensor& labels, int steps);

}  // namespace r50
