// The step timer: phases measured on the backend's timer, read a few steps late, all of them by
// flush(); on the CPU backend its marks are the host's clock, so they must fit inside a wall-clock
// measurement of the same steps.
#include "train/step_timer.h"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "train/train_step.h"

namespace r50 {
namespace {

constexpr int kBatch = 2, kSize = 32, kClasses = 10;

class StepTimerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Rng rng(7);
    for (float& value : pixels_) value = static_cast<float>(rng.normal());
    backend_ = make_cpu_backend(0);
    model_ = std::make_unique<ResNet50>(*backend_, kClasses);
    model_->initialize(0);
  }

  std::vector<float> pixels_ = std::vector<float>(kBatch * 3 * kSize * kSize);
  std::vector<std::int32_t> classes_ = {1, 7};
  Tensor images_{pixels_.data(), {kBatch, 3, kSize, kSize}, DType::F32};
  Tensor labels_{classes_.data(), {kBatch}, DType::I32};
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<ResNet50> model_;
};

TEST_F(StepTimerTest, ReadsAStepOnlyWhenItsMarksAreNeededAgainOrFlushed) {
  TrainStep step(*model_, SgdParams{});
  StepTimer timer(*backend_, 4);
  for (int i = 0; i < 6; ++i) step.run(images_, labels_, &timer);
  EXPECT_EQ(timer.totals().steps, 2);  // steps 1 and 2, whose marks steps 5 and 6 reused
  timer.flush();
  EXPECT_EQ(timer.totals().steps, 6);
  timer.flush();
  EXPECT_EQ(timer.totals().steps, 6);  // nothing is read twice
}

TEST_F(StepTimerTest, PhasesArePositiveAndFitInsideTheWallClockOfTheSteps) {
  TrainStep step(*model_, SgdParams{});
  step.run(images_, labels_);
  StepTimer timer(*backend_, 2);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) step.run(images_, labels_, &timer);
  const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  timer.flush();
  const StepPhases& phases = timer.totals();
  EXPECT_GT(phases.forward_ms, 0);
  EXPECT_GT(phases.backward_ms, 0);
  EXPECT_GT(phases.optimizer_ms, 0);
  EXPECT_LE(phases.step_ms(), wall_ms);
  // The marks bracket everything a step does but the call itself: nearly all of the wall clock.
  EXPECT_GT(phases.step_ms(), 0.9 * wall_ms);
}

// A CUDA graph replay has no marks inside it: such a step counts as a whole, and its time still
// adds to the step's.
TEST_F(StepTimerTest, TimesAStepWithoutPhaseMarksAsAWhole) {
  TrainStep step(*model_, SgdParams{});
  StepTimer timer(*backend_, 2);
  step.run(images_, labels_, &timer);
  timer.start();
  step.run(images_, labels_);
  timer.finish();
  timer.flush();
  const StepPhases& phases = timer.totals();
  EXPECT_EQ(phases.steps, 2);
  EXPECT_EQ(phases.whole_steps, 1);
  EXPECT_GT(phases.whole_ms, 0);
  EXPECT_FALSE(phases.phases_known());
  EXPECT_DOUBLE_EQ(phases.step_ms(), phases.forward_ms + phases.backward_ms + phases.optimizer_ms + phases.whole_ms);
}

TEST_F(StepTimerTest, RefusesAStepWithOnlyOneOfItsPhaseMarks) {
  StepTimer timer(*backend_, 1);
  timer.start();
  timer.forward_done();
  EXPECT_THROW(timer.finish(), Error);
}

TEST_F(StepTimerTest, RefusesMarksOutsideAStep) {
  StepTimer timer(*backend_, 1);
  EXPECT_THROW(timer.forward_done(), Error);
  timer.start();
  EXPECT_THROW(timer.start(), Error);
}

}  // namespace
}  // namespace r50
