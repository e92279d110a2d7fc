// defines: InterruptWatch, interrupt_signal, request_interrupt
#pragma once

namespace r50 {

// While one lives, SIGINT (Ctrl-C) and SIGTERM (a CI job cancelled) only set a flag, so that a
// long run can stop between steps, stop its loader and write the results it has; a second signal
// ends the process at once, as it would have without the watch. Not nestable: one at a time.
class InterruptWatch {
 public:
  InterruptWatch();
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;
};

// The signal that asked the run to stop (SIGINT, SIGTERM), 0 while none has. Safe from any thread.
int interrupt_signal();

// Asks the run to stop as the signal `signal` would; for tests, and for callers with their own
// reasons to stop.
void request_interrupt(int signal);

}  // namespace r50
