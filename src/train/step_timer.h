// defines: StepPhases, StepTimer
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ops/backend.h"

namespace r50 {

// Device time of the phases of training steps, summed over the steps read so far. A step timed
// only as a whole (a CUDA graph replay, whose phases no mark can split) adds to whole_ms alone.
struct StepPhases {
  std::int64_t steps = 0;
  double forward_ms = 0;    // the forward pass and the loss
  double backward_ms = 0;   // the loss's gradient and the backward pass
  double optimizer_ms = 0;  // the SGD update of every parameter
  std::int64_t whole_steps = 0;  // of `steps`, those timed only as a whole
  double whole_ms = 0;

  double step_ms() const { return forward_ms + backward_ms + optimizer_ms + whole_ms; }
  // Whether the three phases cover every step, so that their means mean something.
  bool phases_known() const { return whole_steps == 0; }
};

// Times training steps on the device with the backend's timer (CUDA events on a GPU): a mark
// before the forward, after the loss, after the backward and after the optimiser. The marks of the
// last `steps_in_flight` steps stay unread, so that timing never makes the host wait for the
// device; a step's marks are read when they are needed again, or by flush(). A step with no
// forward_done() and backward_done() between start() and finish() is timed as a whole.
class StepTimer {
 public:
  explicit StepTimer(Backend& backend, int steps_in_flight = 4);

  void start();          // before the step's forward
  void forward_done();   // after its loss
  void backward_done();  // after its backward
  void finish();         // after its optimiser step

  // Reads every finished step (waiting for the device), so that totals() covers them all.
  void flush();
  const StepPhases& totals() const { return totals_; }

 private:
  enum Mark { kStart, kForward, kBackward, kFinish, kMarks };
  void record(Mark mark);
  void read(int slot);

  std::unique_ptr<Backend::Timer> timer_;
  int slots_;
  int current_ = -1;              // the slot of the step being recorded
  std::int64_t started_ = 0;      // steps started
  std::vector<bool> unread_;      // per slot: marks recorded and not yet read
  std::vector<int> phase_marks_;  // per slot: forward_done() and backward_done() calls recorded
  StepPhases totals_;
};

}  // namespace r50
