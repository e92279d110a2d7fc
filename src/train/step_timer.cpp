#include "train/step_timer.h"

namespace r50 {

StepTimer::StepTimer(Backend& backend, int steps_in_flight)
    : timer_(backend.make_timer(steps_in_flight * kMarks)),
      slots_(steps_in_flight),
      unread_(static_cast<std::size_t>(steps_in_flight), false) {
  R50_CHECK(steps_in_flight > 0, "StepTimer: ", steps_in_flight, " steps in flight");
}

void StepTimer::start() {
  R50_CHECK(current_ < 0, "StepTimer: start() twice without finish()");
  current_ = static_cast<int>(started_++ % slots_);
  if (unread_[static_cast<std::size_t>(current_)]) read(current_);  // the step slots_ back
  record(kStart);
}

void StepTimer::forward_done() { record(kForward); }
void StepTimer::backward_done() { record(kBackward); }

void StepTimer::finish() {
  record(kFinish);
  unread_[static_cast<std::size_t>(current_)] = true;
  current_ = -1;
}

void StepTimer::flush() {
  // Oldest first, though the order changes nothing but which wait comes first.
  for (int i = 0; i < slots_; ++i) {
    const int slot = static_cast<int>((started_ + i) % slots_);
    if (unread_[static_cast<std::size_t>(slot)]) read(slot);
  }
}

void StepTimer::record(Mark mark) {
  R50_CHECK(current_ >= 0, "StepTimer: a mark outside start() ... finish()");
  timer_->record(current_ * kMarks + mark);
}

void StepTimer::read(int slot) {
  const int base = slot * kMarks;
  totals_.forward_ms += timer_->milliseconds(base + kStart, base + kForward);
  totals_.backward_ms += timer_->milliseconds(base + kForward, base + kBackward);
  totals_.optimizer_ms += timer_->milliseconds(base + kBackward, base + kFinish);
  ++totals_.steps;
  unread_[static_cast<std::size_t>(slot)] = false;
}

}  // namespace r50
