#include "train/step_timer.h"

namespace r50 {

StepTimer::StepTimer(Backend& backend, int steps_in_flight)
    : timer_(backend.make_timer(steps_in_flight * kMarks)),
      slots_(steps_in_flight),
      unread_(static_cast<std::size_t>(steps_in_flight), false),
      phase_marks_(static_cast<std::size_t>(steps_in_flight), 0) {
  R50_CHECK(steps_in_flight > 0, "StepTimer: ", steps_in_flight, " steps in flight");
}

void StepTimer::start() {
  R50_CHECK(current_ < 0, "StepTimer: start() twice without finish()");
  current_ = static_cast<int>(started_++ % slots_);
  if (unread_[static_cast<std::size_t>(current_)]) read(current_);  // the step slots_ back
  record(kStart);
  phase_marks_[static_cast<std::size_t>(current_)] = 0;
}

void StepTimer::forward_done() {
  record(kForward);
  ++phase_marks_[static_cast<std::size_t>(current_)];
}

void StepTimer::backward_done() {
  record(kBackward);
  ++phase_marks_[static_cast<std::size_t>(current_)];
}

void StepTimer::finish() {
  const int marks = current_ < 0 ? 0 : phase_marks_[static_cast<std::size_t>(current_)];
  R50_CHECK(marks == 0 || marks == 2, "StepTimer: a step marked ", marks,
            " of its two phase ends (forward_done, backward_done)");
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
  if (phase_marks_[static_cast<std::size_t>(slot)] == 0) {
    totals_.whole_ms += timer_->milliseconds(base + kStart, base + kFinish);
    ++totals_.whole_steps;
  } else {
    totals_.forward_ms += timer_->milliseconds(base + kStart, base + kForward);
    totals_.backward_ms += timer_->milliseconds(base + kForward, base + kBackward);
    totals_.optimizer_ms += timer_->milliseconds(base + kBackward, base + kFinish);
  }
  ++totals_.steps;
  unread_[static_cast<std::size_t>(slot)] = false;
}

}  // namespace r50
