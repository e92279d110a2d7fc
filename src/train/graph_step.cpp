#include "train/graph_step.h"

#include <cstddef>

namespace r50 {

GraphTrainStep::GraphTrainStep(TrainStep& step) : step_(step) {
  Backend& backend = step.model().backend();
  R50_CHECK(backend.can_capture(), "CUDA graphs need the CUDA backend; the ", backend.name(),
            " backend runs its ops as they are called");
}

bool GraphTrainStep::fits(const Tensor& images, const Tensor& labels) const {
  return images_.shape() == images.shape() && labels_.shape() == labels.shape();
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
  Backend& backend = step_.model().backend();
  if (!images_.tensor().defined()) {  // the first batch: its shape is the graph's
    images_ = OwnedTensor(backend.allocator(), images.shape(), images.dtype(), backend.device(), images.layout());
    labels_ = OwnedTensor(backend.allocator(), labels.shape(), labels.dtype(), backend.device(), labels.layout());
  }
  if (!fits(images, labels)) {
    step_.run(images, labels, timer);
    return;
  }
  if (eager_steps_ < kEagerSteps) {
    step_.run(images, labels, timer);
    ++eager_steps_;
    return;
  }
  if (!graph_) capture();
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
