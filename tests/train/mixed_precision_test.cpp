// Mixed precision's training step on the CPU backend, which rounds activations as a GPU does:
// F32 master weights and F16/BF16 compute copies kept in step, fp16's dynamic loss scaling
// (a step whose gradients overflow updates nothing and is counted), and training that still
// learns one batch in either dtype.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/half.h"
#include "core/rng.h"
#include "train/train_step.h"

namespace r50 {
namespace {

constexpr int kBatch = 4, kSize = 32, kClasses = 101;

class MixedPrecisionStep : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    backend_ = make_cpu_backend(0);
    model_ = std::make_unique<ResNet50>(*backend_, kClasses, GetParam());
    model_->initialize(0);
    images_host_.resize(kBatch * 3 * kSize * kSize);
    Rng rng(2024);
    for (float& value : images_host_) value = static_cast<float>(rng.normal());
    images_ = Tensor(images_host_.data(), {kBatch, 3, kSize, kSize}, DType::F32);
    labels_ = Tensor(labels_host_.data(), {kBatch}, DType::I32);
  }

  std::vector<float> values(const Tensor& tensor) { return copy_to_host_as_floats(*backend_, tensor); }

  // Every compute copy holds its master weight rounded to the compute dtype.
  void expect_compute_copies_follow_the_master_weights() {
    for (const Parameter* parameter : model_->parameters()) {
      if (!parameter->has_compute_copy) continue;
      std::vector<float> master = values(parameter->value);
      std::vector<std::uint16_t> bits(master.size());
      floats_into(master.data(), static_cast<std::int64_t>(master.size()), bits.data(), GetParam());
      std::vector<float> expected(master.size());
      floats_from(bits.data(), GetParam(), static_cast<std::int64_t>(bits.size()), expected.data());
      ASSERT_EQ(values(parameter->compute_copy), expected) << parameter->name;
    }
  }

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<ResNet50> model_;
  std::vector<float> images_host_;
  std::vector<std::int32_t> labels_host_ = {3, 17, 42, 99};
  Tensor images_, labels_;
  const SgdParams sgd_{0.01f, 0.9f, 1e-4f, 0.0f, false};
};

INSTANTIATE_TEST_SUITE_P(Dtypes, MixedPrecisionStep, ::testing::Values(DType::F16, DType::BF16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST_P(MixedPrecisionStep, ConvolutionsAndTheClassifierComputeInHalfBatchNormInF32) {
  for (const Parameter* parameter : model_->parameters()) {
    const bool batch_norm = parameter->value.shape().rank() == 1 && parameter->name.rfind("fc.", 0) != 0;
    EXPECT_EQ(parameter->value.tensor().dtype(), DType::F32) << parameter->name;
    EXPECT_EQ(parameter->has_compute_copy, !batch_norm) << parameter->name;
    EXPECT_EQ(parameter->grad.tensor().dtype(), batch_norm ? DType::F32 : GetParam()) << parameter->name;
  }
  TrainStep step(*model_, sgd_);
  step.forward_backward(images_, labels_, BatchNormMode::BatchStatistics);
  EXPECT_EQ(step.logits().dtype(), GetParam());
  EXPECT_TRUE(std::isfinite(step.loss()));
}

TEST_P(MixedPrecisionStep, ComputeCopiesFollowTheMasterWeightsThroughInitAndSgd) {
  expect_compute_copies_follow_the_master_weights();
  TrainStep step(*model_, sgd_);
  for (int i = 0; i < 2; ++i) step.run(images_, labels_);
  expect_compute_copies_follow_the_master_weights();
}

TEST_P(MixedPrecisionStep, OnlyFp16ScalesItsLoss) {
  TrainStep step(*model_, sgd_);
  EXPECT_EQ(step.scales_loss(), GetParam() == DType::F16);
  EXPECT_EQ(step.loss_scale(), GetParam() == DType::F16 ? 65536.0f : 1.0f);
}

// A loss scale of 2^40 makes dlogits = scale · (p - onehot) / N overflow F16's 65504 at once; a
// backoff of 2^-39 then leaves 2, at which the next step updates (this fresh model's gradients on
// this batch overflow from a scale of 16: some exceed 4,096). That update is the run's first, so
// momentum starts at it: the model lands where a fresh one does after its first step at 2.
TEST_P(MixedPrecisionStep, AStepWhoseGradientsOverflowUpdatesNothingAndIsCounted) {
  if (GetParam() != DType::F16) GTEST_SKIP() << "bf16 has fp32's range and scales no loss";
  LossScaleParams scaling;
  scaling.initial = std::ldexp(1.0f, 40);
  scaling.backoff_factor = std::ldexp(1.0f, -39);
  TrainStep step(*model_, sgd_, scaling);
  std::vector<std::vector<float>> before;
  for (const Parameter* parameter : model_->parameters()) before.push_back(values(parameter->value));
  step.run(images_, labels_);
  EXPECT_EQ(step.skipped_steps(), 1);
  EXPECT_EQ(step.loss_scale(), 2.0f);
  for (std::size_t i = 0; i < before.size(); ++i) {
    const Parameter& parameter = *model_->parameters()[i];
    ASSERT_EQ(values(parameter.value), before[i]) << parameter.name << " moved in a skipped step";
  }

  step.run(images_, labels_);
  EXPECT_EQ(step.skipped_steps(), 1);
  ResNet50 fresh(*backend_, kClasses, GetParam());
  fresh.initialize(0);
  LossScaleParams from_2;
  from_2.initial = 2.0f;
  TrainStep fresh_step(fresh, sgd_, from_2);
  fresh_step.run(images_, labels_);
  for (std::size_t i = 0; i < before.size(); ++i) {
    const Parameter& parameter = *model_->parameters()[i];
    const Parameter& expected = *fresh.parameters()[i];
    ASSERT_EQ(values(parameter.value), values(expected.value)) << parameter.name;
    ASSERT_EQ(values(parameter.momentum), values(expected.momentum)) << parameter.name << "'s momentum";
  }
}

// fp16 stores about 3.3 significant digits and bf16 2.4; the model must still learn: ten updates
// on one batch at least halve the loss, as thirty do in fp32 (train_step_test.cpp). fp16 first
// skips the steps whose gradients overflow: at GradScaler's first scale, 2^16, about ten on this
// batch, so the test starts at 2^10 (the skipping itself is the test above's). Not more than ten
// updates: as the loss nears 0 the gradients turn subnormal in the CPU backend's fp32 arithmetic,
// which the processor runs many times slower.
TEST_P(MixedPrecisionStep, TenUpdatesOnOneBatchAtLeastHalveTheLoss) {
  LossScaleParams scaling;
  scaling.initial = 1024.0f;
  TrainStep step(*model_, sgd_, scaling);
  step.run(images_, labels_);
  const float first_loss = step.loss();
  for (int steps = 1; steps - step.skipped_steps() < 10; ++steps) {
    ASSERT_LT(steps, 40) << "loss scaling skipped " << step.skipped_steps() << " of " << steps << " steps";
    step.run(images_, labels_);
  }
  step.forward_backward(images_, labels_, BatchNormMode::BatchStatistics);
  const float last_loss = step.loss();
  std::cout << dtype_name(GetParam()) << ": loss " << first_loss << " -> " << last_loss << ", "
            << step.skipped_steps() << " steps skipped, loss scale " << step.loss_scale() << "\n";
  EXPECT_TRUE(std::isfinite(last_loss));
  EXPECT_LT(last_loss, 0.5f * first_loss);
}

}  // namespace
}  // namespace r50
