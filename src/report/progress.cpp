#include "report/progress.h"

#include <algorithm>
#include <cstdio>

namespace r50 {

double eta_seconds(std::int64_t done, std::int64_t total, double elapsed_seconds) {
  if (done <= 0) return -1.0;
  if (done >= total) return 0.0;
  return elapsed_seconds / static_cast<double>(done) * static_cast<double>(total - done);
}

std::string format_duration(double seconds) {
  char text[64];
  const long total = static_cast<long>(seconds + 0.5);
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%ld h %02ld min", total / 3600, (total % 3600) / 60);
  } else if (total >= 60) {
    std::snprintf(text, sizeof text, "%ld min %02ld s", total / 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  }
  return text;
}

std::string progress_line(const ProgressState& state, int bar_width) {
  const double fraction =
      state.total_steps > 0 ? std::clamp(static_cast<double>(state.step) / state.total_steps, 0.0, 1.0) : 0.0;
  std::string line;
  if (state.epoch >= 0) line += "epoch " + std::to_string(state.epoch) + ": ";
  if (bar_width > 0) {
    const int filled = static_cast<int>(fraction * bar_width);
    line += "[" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "] ";
  }
  char figures[192];
  const double rate = state.elapsed_seconds > 0 ? state.images / state.elapsed_seconds : 0.0;
  std::snprintf(figures, sizeof figures, "%3d%%  step %lld/%lld  %lld/%lld images  %.1f images/s  ETA ",
                static_cast<int>(fraction * 100), static_cast<long long>(state.step),
                static_cast<long long>(state.total_steps), static_cast<long long>(state.images),
                static_cast<long long>(state.total_images), rate);
  const double eta = eta_seconds(state.step, state.total_steps, state.elapsed_seconds);
  return line + figures + (eta < 0 ? std::string("?") : format_duration(eta));
}

ProgressDisplay::ProgressDisplay(std::ostream& out, bool terminal, double quiet_seconds, double line_seconds,
                                 double redraw_seconds)
    : out_(out),
      terminal_(terminal),
      quiet_seconds_(quiet_seconds),
      line_seconds_(line_seconds),
      redraw_seconds_(redraw_seconds) {}

void ProgressDisplay::update(const ProgressState& state) {
  const double now = state.elapsed_seconds;
  if (now < quiet_seconds_) return;
  const double period = terminal_ ? redraw_seconds_ : line_seconds_;
  const bool last_redraw = terminal_ && state.step >= state.total_steps;  // the bar ends full
  if (last_shown_ >= 0.0 && now - last_shown_ < period && !last_redraw) return;
  last_shown_ = now;
  if (!terminal_) {
    out_ << progress_line(state, 0) << "\n" << std::flush;
    return;
  }
  const std::string line = progress_line(state, 30);
  // Spaces wipe what a longer earlier line left behind.
  out_ << '\r' << line << std::string(drawn_width_ > line.size() ? drawn_width_ - line.size() : 0, ' ')
       << std::flush;
  drawn_width_ = line.size();
}

void ProgressDisplay::finish() {
  if (drawn_width_ > 0) out_ << "\n" << std::flush;
  drawn_width_ = 0;
}

}  // namespace r50
