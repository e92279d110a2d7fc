// The training step: a model that can overfit one batch has its backward pass and optimiser
// wired; one whose first convolution moves exactly as SGD says also learns below its last layer.
#include "train/train_step.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"

namespace r50 {
namespace {

constexpr int kBatch = 4, kSize = 32, kClasses = 101, kSteps = 30;

struct FixedBatch {
  std::vector<float> images;
  std::vector<std::int32_t> labels;
};

FixedBatch make_batch() {
  FixedBatch batch{std::vector<float>(kBatch * 3 * kSize * kSize), {3, 17, 42, 99}};
  Rng rng(2024);
  for (float& value : batch.images) value = static_cast<float>(rng.normal());
  return batch;
}

std::vector<float> to_host(Backend& backend, const Tensor& tensor) {
  std::vector<float> values(static_cast<std::size_t>(tensor.numel()));
  backend.copy_to_host(values.data(), tensor);
  return values;
}

class TrainStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = make_cpu_backend(0);
    model_ = std::make_unique<ResNet50>(*backend_, kClasses);
    model_->initialize(0);
    images_ = Tensor(batch_.images.data(), {kBatch, 3, kSize, kSize}, DType::F32);
    labels_ = Tensor(batch_.labels.data(), {kBatch}, DType::I32);
  }

  FixedBatch batch_ = make_batch();
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<ResNet50> model_;
  Tensor images_, labels_;
  const SgdParams sgd_{0.01f, 0.9f, 1e-4f, 0.0f, false};
};

TEST_F(TrainStepTest, ThirtyStepsOnOneBatchAtLeastHalveTheLoss) {
  TrainStep step(*model_, sgd_);
  step.run(images_, labels_);
  const float first_loss = step.loss();
  for (int i = 1; i < kSteps; ++i) step.run(images_, labels_);
  step.forward_backward(images_, labels_, BatchNormMode::BatchStatistics);
  const float last_loss = step.loss();
  std::cout << "loss " << first_loss << " -> " << last_loss << " after " << kSteps << " steps\n";
  EXPECT_TRUE(std::isfinite(last_loss));
  EXPECT_LT(last_loss, 0.5f * first_loss);
}

// torch.optim.SGD replayed on the host from the gradients each step produced: the first
// convolution ends where that replay says, and has moved a visible distance.
TEST_F(TrainStepTest, FirstConvolutionMovesAsSgdSays) {
  TrainStep step(*model_, sgd_);
  const Parameter& conv1 = model_->conv1().weight();
  const std::vector<float> start = to_host(*backend_, conv1.value);
  std::vector<float> replay = start, momentum(start.size());
  for (int i = 0; i < kSteps; ++i) {
    step.forward_backward(images_, labels_, BatchNormMode::BatchStatistics);
    const std::vector<float> grad = to_host(*backend_, conv1.grad);
    for (std::size_t j = 0; j < replay.size(); ++j) {
      const float g = grad[j] + sgd_.weight_decay * replay[j];
      momentum[j] = i == 0 ? g : sgd_.momentum * momentum[j] + g;
      replay[j] -= sgd_.lr * momentum[j];
    }
    step.apply_sgd();
  }
  const std::vector<float> end = to_host(*backend_, conv1.value);
  double moved = 0, disagreement = 0, size = 0;
  for (std::size_t j = 0; j < end.size(); ++j) {
    moved += std::pow(double(end[j]) - start[j], 2);
    disagreement += std::pow(double(end[j]) - replay[j], 2);
    size += std::pow(double(start[j]), 2);
  }
  // The replay runs the same float32 operations; only the order of rounding may differ, a few
  // ulp per step, so the two paths agree to 1e-5 of the distance moved.
  EXPECT_LT(std::sqrt(disagreement), 1e-5 * std::sqrt(moved));
  EXPECT_GT(std::sqrt(moved), 1e-3 * std::sqrt(size)) << "conv1 barely moved: the gradient does not reach it";
}

TEST_F(TrainStepTest, ForwardBackwardAloneUpdatesNoParameter) {
  TrainStep step(*model_, sgd_);
  const std::vector<float> before = to_host(*backend_, model_->fc().weight().value);
  step.forward_backward(images_, labels_, BatchNormMode::BatchStatistics);
  EXPECT_EQ(to_host(*backend_, model_->fc().weight().value), before);
}

// A captured step replays into the loss buffers it was captured with; a batch of another shape
// (an epoch's last) must not take them away.
TEST_F(TrainStepTest, EachBatchShapeKeepsItsOwnLossBuffers) {
  TrainStep step(*model_, sgd_);
  step.forward_backward(images_, labels_, BatchNormMode::BatchStatistics);
  const Tensor full = step.probabilities();  // a view
  const std::vector<float> full_values = to_host(*backend_, full);
  const Tensor half_images(batch_.images.data(), {kBatch / 2, 3, kSize, kSize}, DType::F32);
  const Tensor half_labels(batch_.labels.data(), {kBatch / 2}, DType::I32);
  step.forward_backward(half_images, half_labels, BatchNormMode::BatchStatistics);
  EXPECT_EQ(step.probabilities().dim(0), kBatch / 2);
  EXPECT_NE(step.probabilities().data(), full.data());
  EXPECT_EQ(to_host(*backend_, full), full_values);  // still allocated, untouched
  step.forward_backward(images_, labels_, BatchNormMode::BatchStatistics);
  EXPECT_EQ(step.probabilities().data(), full.data());
}

}  // namespace
}  // namespace r50
