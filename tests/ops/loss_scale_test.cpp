// fp16's loss scale kept on the device (DeviceLossScale): update_loss_scale against
// torch.amp.GradScaler's rules worked out by hand, and sgd_step_all under the scale against the
// plain sgd_step_all it must equal, bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;
using reference::vector_of;

// A loss scale's state and overflow flag on the host, which is the CPU backend's device.
struct HostLossScale {
  HostTensor<float> state = vector_of({65536.0f, 0.0f, 0.0f, 0.0f});
  HostTensor<float> found = vector_of({0.0f});

  DeviceLossScale tensors() const { return {state.view(), found.view()}; }
  // One step's verdict, then GradScaler's update.
  void update(bool overflow, const LossScaleParams& params = {}) {
    found[0] = overflow ? 1.0f : 0.0f;
    cpu().update_loss_scale(tensors(), params);
  }
};

TEST(UpdateLossScale, AnOverflowHalvesTheScaleAndCountsASkippedStep) {
  HostLossScale scale;
  scale.update(true);
  scale.update(true);
  EXPECT_EQ(scale.state[kLossScale], 16384.0f);
  EXPECT_EQ(scale.state[kSkippedSteps], 2.0f);
  EXPECT_EQ(scale.state[kUpdatesApplied], 0.0f);
}

TEST(UpdateLossScale, DoublesAfterAnIntervalWithoutOverflowAndAnOverflowRestartsTheCount) {
  const LossScaleParams params{1024.0f, 2.0f, 0.5f, 3};
  HostLossScale scale;
  scale.state[kLossScale] = params.initial;
  scale.update(false, params);
  scale.update(false, params);
  scale.update(true, params);  // restarts the count, at 512
  scale.update(false, params);
  scale.update(false, params);
  EXPECT_EQ(scale.state[kLossScale], 512.0f);
  EXPECT_EQ(scale.state[kCleanSteps], 2.0f);
  scale.update(false, params);
  EXPECT_EQ(scale.state[kLossScale], 1024.0f);
  EXPECT_EQ(scale.state[kCleanSteps], 0.0f);
  EXPECT_EQ(scale.state[kSkippedSteps], 1.0f);
  EXPECT_EQ(scale.state[kUpdatesApplied], 5.0f);
}

TEST(UpdateLossScale, NeverGrowsToInfinity) {
  const LossScaleParams params{1.0f, 2.0f, 0.5f, 1};
  HostLossScale scale;
  scale.state[kLossScale] = std::numeric_limits<float>::max();
  scale.update(false, params);
  EXPECT_EQ(scale.state[kLossScale], std::numeric_limits<float>::max());
  EXPECT_EQ(scale.state[kCleanSteps], 0.0f);
}

TEST(UpdateLossScale, RefusesParametersThatCannotWork) {
  HostLossScale scale;
  const LossScaleParams cannot_work[] = {{0.0f, 2.0f, 0.5f, 2000},  // no scale
                                         {1.0f, 1.0f, 0.5f, 2000},  // no growth
                                         {1.0f, 2.0f, 1.5f, 2000},  // a backoff that grows
                                         {1.0f, 2.0f, 0.5f, 0}};    // no interval
  for (const LossScaleParams& params : cannot_work) {
    EXPECT_TRUE(throws_naming([&] { cpu().update_loss_scale(scale.tensors(), params); }, {"loss scaling"}));
  }
}

TEST(UpdateLossScale, RefusesAStateOfAnotherShape) {
  HostTensor<float> state({3}), found({1});
  EXPECT_TRUE(throws_naming([&] { cpu().update_loss_scale({state.view(), found.view()}, {}); },
                            {"update_loss_scale", "loss_scale.state", "[3]", "[4]"}));
}

// ---- sgd_step_all under the scale.

struct Parameters {
  HostTensor<float> param, grad, buffer;
};

// Two parameters of odd sizes, gradients as a loss scale of `scale` leaves them.
std::vector<Parameters> scaled_parameters(float scale) {
  Rng rng(85);
  std::vector<Parameters> parameters;
  for (const Shape& shape : {Shape{7, 13}, Shape{1001}}) {
    Parameters p{reference::uniform<float>(shape, rng), reference::uniform<float>(shape, rng),
                 reference::uniform<float>(shape, rng)};
    for (std::int64_t i = 0; i < p.grad.numel(); ++i) p.grad[i] *= scale;
    parameters.push_back(p);
  }
  return parameters;
}

std::vector<SgdTensors> sgd_tensors(const std::vector<Parameters>& parameters, bool first_step) {
  std::vector<SgdTensors> tensors;
  for (const Parameters& p : parameters) {
    tensors.push_back({p.param.view(), p.grad.view(), p.buffer.view(), first_step, Tensor()});
  }
  return tensors;
}

void expect_bitwise_equal(const std::vector<Parameters>& actual, const std::vector<Parameters>& expected) {
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_TRUE(reference::bitwise_equal(actual[i].param, expected[i].param)) << "param " << i;
    EXPECT_TRUE(reference::bitwise_equal(actual[i].buffer, expected[i].buffer)) << "momentum buffer " << i;
  }
}

// The device's count of updates says which update is the first; the entries' own flag is not read.
TEST(SgdStepAllUnderDeviceLossScale, IsTheUpdateWithGradScaleOneOverTheScale) {
  for (const float updates_applied : {0.0f, 3.0f}) {
    const std::vector<Parameters> before = scaled_parameters(4096.0f);
    std::vector<Parameters> expected = before, actual = before;
    SgdParams unscaled;
    unscaled.dampening = 0.25f;  // where the first update differs most from the others
    unscaled.grad_scale = 1.0f / 4096.0f;
    cpu().sgd_step_all(sgd_tensors(expected, updates_applied == 0.0f), unscaled);
    HostLossScale scale;
    scale.state[kLossScale] = 4096.0f;
    scale.state[kUpdatesApplied] = updates_applied;
    SgdParams params = unscaled;
    params.grad_scale = 1.0f;
    cpu().sgd_step_all(sgd_tensors(actual, updates_applied != 0.0f), params, scale.tensors());
    SCOPED_TRACE(updates_applied == 0.0f ? "the first update" : "a later update");
    expect_bitwise_equal(actual, expected);
  }
}

TEST(SgdStepAllUnderDeviceLossScale, AnOverflowUpdatesNothing) {
  const std::vector<Parameters> before = scaled_parameters(65536.0f);
  std::vector<Parameters> actual = before;
  HostLossScale scale;
  scale.found[0] = 1.0f;
  cpu().sgd_step_all(sgd_tensors(actual, true), SgdParams{}, scale.tensors());
  expect_bitwise_equal(actual, before);
}

TEST(SgdStepAllUnderDeviceLossScale, RefusesAGradScaleBesideTheScale) {
  std::vector<Parameters> parameters = scaled_parameters(2.0f);
  SgdParams params;
  params.grad_scale = 0.5f;
  HostLossScale scale;
  EXPECT_TRUE(throws_naming([&] { cpu().sgd_step_all(sgd_tensors(parameters, true), params, scale.tensors()); },
                            {"sgd_step_all", "grad_scale"}));
}

TEST(SoftmaxCrossEntropyBackward, ALossGradientReadOnTheDeviceGivesTheSameBits) {
  Rng rng(86);
  HostTensor<float> probs = reference::uniform<float>({5, 7}, rng, 0.0, 1.0);
  HostTensor<std::int32_t> labels({5});
  for (std::int64_t i = 0; i < labels.numel(); ++i) labels[i] = static_cast<std::int32_t>(i % 7);
  HostTensor<float> by_value({5, 7}), on_device({5, 7});
  cpu().softmax_cross_entropy_backward(probs.view(), labels.view(), by_value.view(), 65536.0f);
  const HostTensor<float> loss_grad = vector_of({65536.0f});
  cpu().softmax_cross_entropy_backward(probs.view(), labels.view(), on_device.view(), loss_grad.view());
  EXPECT_TRUE(reference::bitwise_equal(on_device, by_value));
}

}  // namespace
}  // namespace r50
