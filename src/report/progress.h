// defines: ProgressState, eta_seconds, format_duration, progress_line, ProgressDisplay
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace r50 {

// Where a measured run stands: steps and images done out of the total, and the time so far.
struct ProgressState {
  std::int64_t step = 0;
  std::int64_t total_steps = 0;
  std::int64_t images = 0;
  std::int64_t total_images = 0;
  double elapsed_seconds = 0.0;
  std::int64_t epoch = -1;  // shown when 0 or more
};

// Seconds left at the rate so far: elapsed / done × (total − done). Negative when nothing is done
// yet (no rate to go by); 0 once done reaches the total.
double eta_seconds(std::int64_t done, std::int64_t total, double elapsed_seconds);

// A duration for a person: "42.0 s", "3 min 07 s", "1 h 05 min".
std::string format_duration(double seconds);

// One line, no newline: a bar `bar_width` characters wide, then the figures:
// "[#####.....]  50%  step 10/20  40/80 images  8.0 images/s  ETA 5.0 s". The bar is left out when
// `bar_width` is 0; "epoch E: " leads when the state has an epoch.
std::string progress_line(const ProgressState& state, int bar_width);

// Shows a run's progress on `out`: on a terminal, one bar redrawn in place with '\r' at most
// `redraw_seconds` apart; otherwise a plain line every `line_seconds`. Nothing before
// `quiet_seconds` have passed, so short runs stay silent. The caller passes the elapsed time, so
// the display is a pure function of the states it is given.
class ProgressDisplay {
 public:
  ProgressDisplay(std::ostream& out, bool terminal, double quiet_seconds = 5.0, double line_seconds = 5.0,
                  double redraw_seconds = 0.25);
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  void update(const ProgressState& state);
  // Ends the bar's line on a terminal, so that what follows starts on a fresh one.
  void finish();

 private:
  std::ostream& out_;
  bool terminal_;
  double quiet_seconds_, line_seconds_, redraw_seconds_;
  double last_shown_ = -1.0;  // elapsed seconds at the last output; negative: none yet
  std::size_t drawn_width_ = 0;  // characters of the bar on screen now
};

}  // namespace r50
