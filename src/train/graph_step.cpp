#include "train/graph_step.h"

#include <cstddef>

namespace r50 {

GraphTrainStep::GraphTrainStep(TrainStep& step) : step_(step) {
  Backend& backend = step.model().backend();
  R50_CHECK(backend.can_capture(), "CUDA graphs need the CUDA backend; the ", backend.name(),
            " backend runs its ops as they are called");
}

// Buffers of the batch's shape; a new shape drops the graph, which read the old ones.
void GraphTrainStep::fit_inputs(const Tensor& images, const Tensor& labels) {
  if (images_.shape() == images.shape() && labels_.shape() == labels.shape()) return;
  graph_.reset();
  eager_steps_ = 0;
  Backend& backend = step_.model().backend();
  images_ = OwnedTensor(backend.allocator(), images.shape(), images.dtype(), backend.device(), images.layout());
  labels_ = OwnedTensor(backend.allocator(), labels.shape(), labels.dtype(), backend.device(), labels.layout());
}

std::vector<std::int64_t> GraphTrainStep::batch_counters() const {
  std::vector<std::int64_t> counters;
  for (const StateEntry& entry : step_.model().state()) {
    if (entry.kind == StateEntry::Kind::BatchCounter) counters.push_back(*entry.counter);
  }
  return counters;
}

// Capturing runs the step's host side but none of its device work: the batch counters it moved
// go back, and every replay moves them as it did.
void GraphTrainStep::capture() {
  const std::vector<std::int64_t> before = batch_counters();
  graph_ = step_.model().backend().capture([this] {
    step_.forward_backward(images_, labels_, BatchNormMode::BatchStatistics);
    step_.apply_sgd();
  });
  counter_steps_ = batch_counters();
  std::size_t i = 0;
  for (const StateEntry& entry : step_.model().state()) {
    if (entry.kind != StateEntry::Kind::BatchCounter) continue;
    counter_steps_[i] -= before[i];
    *entry.counter = before[i++];
  }
}

void GraphTrainStep::run(const Tensor& images, const Tensor& labels, StepTimer* timer) {
  fit_inputs(images, labels);
  if (eager_steps_ < kEagerSteps) {
    step_.run(images, labels, timer);
    ++eager_steps_;
    return;
  }
  if (!graph_) capture();
  Backend& backend = step_.model().backend();
  if (timer) timer->start();
  backend.copy(images_, images);
  backend.copy(labels_, labels);
  graph_->replay();
  if (timer) timer->finish();
  ++replays_;
  std::size_t i = 0;
  for (const StateEntry& entry : step_.model().state()) {
    if (entry.kind == StateEntry::Kind::BatchCounter) *entry.counter += counter_steps_[i++];
  }
}

}  // namespace r50
