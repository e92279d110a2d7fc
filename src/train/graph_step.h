// defines: GraphTrainStep
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "memory/buffer.h"
#include "ops/backend.h"
#include "train/step_timer.h"
#include "train/train_step.h"

namespace r50 {

// A TrainStep captured once as a CUDA graph and then replayed (Backend::capture; bench_resnet50
// --cuda-graph): one launch per step instead of hundreds, the same kernels on the same memory, so
// the same numbers as the eager step, bit for bit.
//
// The first kEagerSteps steps run as TrainStep::run does: the first SGD step (first_step, which
// a replay must not repeat), and one that leaves cuDNN's plans and the allocator's cache as every
// later step finds them, so the capture allocates nothing new. The next step is captured, then
// replayed, as is every one after it. A graph reads fixed addresses, so each captured step first
// copies the caller's images and labels into device buffers of its own (on the device, outside the
// graph); the loss stays in the TrainStep's loss_tensor(), where LossWatch copies it from after
// each step, and the host's side of a step (batch norm's num_batches_tracked) is advanced after
// each replay as the captured step advanced it. The graph is of the first batch's shape; a batch of
// another shape (an epoch's short last one) runs as an ordinary step and leaves the graph as it is.
//
// Hyper-parameters are baked in at the capture, the learning rate included, and so is the fact that
// momentum is under way: after the model's initialize or load_state_dict, which restart it, make
// a new GraphTrainStep. The TrainStep, its model and the backend must outlive this object, whose
// graph holds memory in the backend's allocator until it goes.
class GraphTrainStep {
 public:
  static constexpr int kEagerSteps = 2;

  explicit GraphTrainStep(TrainStep& step);

  // One training step, as TrainStep::run(images, labels, timer). With a timer, an eager step's
  // phases are marked; a replay is timed as a whole (StepPhases::whole_ms).
  void run(const Tensor& images, const Tensor& labels, StepTimer* timer = nullptr);

  bool captured() const { return graph_ != nullptr; }
  std::int64_t replays() const { return replays_; }
  TrainStep& step() const { return step_; }

 private:
  bool fits(const Tensor& images, const Tensor& labels) const;
  void capture();
  std::vector<std::int64_t> batch_counters() const;

  TrainStep& step_;
  OwnedTensor images_, labels_;  // what the graph reads; declared first, so that they outlive it
  std::unique_ptr<Backend::CapturedWork> graph_;
  std::vector<std::int64_t> counter_steps_;  // what one step adds to each batch counter
  int eager_steps_ = 0;  // since the last (re)start
  std::int64_t replays_ = 0;
};

}  // namespace r50
