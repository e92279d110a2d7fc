// The loss watch: finite losses pass, the first NaN or infinity stops the run naming its step and
// the last finite loss, whether it falls before or after the ring's first check.
#include "train/loss_watch.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace r50 {
namespace {

class LossWatchTest : public ::testing::Test {
 protected:
  void record(LossWatch& watch, float value) {
    loss_ = value;
    watch.record(Tensor(&loss_, {1}, DType::F32));
  }

  std::unique_ptr<Backend> backend_ = make_cpu_backend(1);
  float loss_ = 0.0f;
};

TEST_F(LossWatchTest, FiniteLossesPassEveryCheck) {
  LossWatch watch(*backend_, 3);
  for (int step = 1; step <= 7; ++step) record(watch, 4.6f / static_cast<float>(step));
  EXPECT_NO_THROW(watch.check());
  EXPECT_EQ(watch.steps(), 7);
}

TEST_F(LossWatchTest, NamesTheFirstNonFiniteStepAndTheLastFiniteLossAcrossChecks) {
  LossWatch watch(*backend_, 3);
  for (float value : {4.6f, 4.4f, 4.1f, 3.9f}) record(watch, value);  // steps 1-3 checked, 4 pending
  record(watch, std::numeric_limits<float>::quiet_NaN());
  try {
    watch.check();
    FAIL() << "a NaN loss passed";
  } catch (const TrainingDiverged& error) {
    EXPECT_EQ(error.step(), 5);
    const std::string message = error.what();
    EXPECT_NE(message.find("the loss is nan at step 5"), std::string::npos) << message;
    EXPECT_NE(message.find("the last finite loss was 3.9, at step 4"), std::string::npos) << message;
  }
}

TEST_F(LossWatchTest, ChecksByItselfWhenTheRingIsFull) {
  LossWatch watch(*backend_, 2);
  record(watch, 4.6f);
  EXPECT_THROW(record(watch, std::numeric_limits<float>::infinity()), TrainingDiverged);
}

TEST_F(LossWatchTest, SaysSoWhenNoStepWasFinite) {
  LossWatch watch(*backend_, 4);
  record(watch, -std::numeric_limits<float>::infinity());
  try {
    watch.check();
    FAIL() << "an infinite loss passed";
  } catch (const TrainingDiverged& error) {
    EXPECT_EQ(error.step(), 1);
    EXPECT_NE(std::string(error.what()).find("no step had a finite loss"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace r50
