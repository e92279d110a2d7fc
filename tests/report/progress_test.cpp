#include "report/progress.h"

#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>

namespace r50 {
namespace {

// The time left is the time per step so far times the steps still to run.
TEST(EtaSeconds, ScalesTheTimeSoFarByTheStepsLeft) {
  EXPECT_DOUBLE_EQ(eta_seconds(10, 40, 5.0), 5.0 / 10 * 30);
  EXPECT_DOUBLE_EQ(eta_seconds(1, 3, 2.0), 4.0);
}

TEST(EtaSeconds, IsZeroWhenDoneAndUnknownBeforeTheFirstStep) {
  EXPECT_DOUBLE_EQ(eta_seconds(40, 40, 12.0), 0.0);
  EXPECT_LT(eta_seconds(0, 40, 0.5), 0.0);
}

TEST(FormatDuration, UsesTheLargestUnitReached) {
  EXPECT_EQ(format_duration(42.04), "42.0 s");
  EXPECT_EQ(format_duration(3 * 60 + 7), "3 min 07 s");
  EXPECT_EQ(format_duration(3600 + 5 * 60 + 20), "1 h 05 min");
}

// 10 of 20 steps in 5 s: 8 images/s over 40 images, 5 s left.
TEST(ProgressLine, ShowsStepsImagesRateAndTimeLeft) {
  const ProgressState state{10, 20, 40, 80, 5.0, -1};
  EXPECT_EQ(progress_line(state, 0), " 50%  step 10/20  40/80 images  8.0 images/s  ETA 5.0 s");
}

TEST(ProgressLine, DrawsABarAsWideAsAskedAndLeadsWithTheEpoch) {
  const ProgressState state{1, 4, 8, 32, 2.0, 3};
  EXPECT_EQ(progress_line(state, 8), "epoch 3: [##......]  25%  step 1/4  8/32 images  4.0 images/s  ETA 6.0 s");
}

TEST(ProgressLine, SaysTheTimeLeftIsUnknownBeforeTheFirstStep) {
  const ProgressState state{0, 4, 0, 32, 0.0, -1};
  EXPECT_EQ(progress_line(state, 0), "  0%  step 0/4  0/32 images  0.0 images/s  ETA ?");
}

ProgressState at(double seconds, std::int64_t step, std::int64_t total = 100) {
  return ProgressState{step, total, step * 2, total * 2, seconds, -1};
}

TEST(ProgressDisplay, StaysSilentForShortRuns) {
  std::ostringstream out;
  ProgressDisplay display(out, false, 5.0, 5.0);
  for (int step = 1; step <= 100; ++step) display.update(at(step * 0.04, step));
  display.finish();
  EXPECT_EQ(out.str(), "");
}

// Off a terminal: one plain line when the quiet time ends (step 34, 5.1 s), then one 5 seconds
// later at the earliest (step 68, 10.2 s); 15 s is not yet 5 s after that.
TEST(ProgressDisplay, WritesALineEveryPeriodOffATerminal) {
  std::ostringstream out;
  ProgressDisplay display(out, false, 5.0, 5.0);
  for (int step = 1; step <= 100; ++step) display.update(at(step * 0.15, step));  // 15 s in all
  display.finish();
  const std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_EQ(text.substr(0, text.find('\n')), progress_line(at(34 * 0.15, 34), 0));
}

// On a terminal: redrawn in place, ending full, then one newline.
TEST(ProgressDisplay, RedrawsInPlaceOnATerminal) {
  std::ostringstream out;
  ProgressDisplay display(out, true, 1.0, 5.0, 0.25);
  for (int step = 1; step <= 20; ++step) display.update(at(step * 0.1, step, 20));
  display.finish();
  const std::string text = out.str();
  EXPECT_EQ(text.front(), '\r');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_EQ(text.back(), '\n');
  const std::string last = text.substr(text.rfind('\r') + 1);
  EXPECT_EQ(last, progress_line(at(2.0, 20, 20), 30) + "\n");
}

}  // namespace
}  // namespace r50
