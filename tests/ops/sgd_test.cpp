// The SGD step against torch.optim.SGD sequences worked out by hand, and against its oracle.
// Hyper-parameters and values are dyadic (0.125, 0.75, ...) so the hand arithmetic is exact.
// sgd_step_all against sgd_step entry by entry, bit for bit.
#include "reference/sgd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <ostream>
#include <vector>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;
using reference::kF32UnitRoundoff;

// Runs sgd_step on a one-element parameter, once per gradient, and returns the parameter after
// each step.
std::vector<float> steps(float param, const std::vector<float>& grads, const SgdParams& params,
                         float* buffer_out = nullptr) {
  HostTensor<float> p({1}, param), g({1}), buf({1}, 123.0f);  // a stale buffer must be ignored
  std::vector<float> after;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    g[0] = grads[i];
    cpu().sgd_step(p.view(), g.view(), buf.view(), params, i == 0);
    after.push_back(p[0]);
  }
  if (buffer_out) *buffer_out = buf[0];
  return after;
}

TEST(SgdStep, FollowsTorchWithMomentumAndWeightDecay) {
  // lr 0.125, momentum 0.75, weight decay 0.0625, param 1, gradients 0.5, -0.25, 1:
  // step 1: g = 0.5 + 0.0625·1 = 0.5625;               buf = g = 0.5625;
  //         p = 1 - 0.125·0.5625 = 0.9296875
  // step 2: g = -0.25 + 0.0625·0.9296875 = -0.19189453125;
  //         buf = 0.75·0.5625 + g = 0.22998046875;      p = 0.9296875 - 0.125·buf =
  //         0.90093994140625
  // step 3: g = 1 + 0.0625·0.90093994140625 = 1.056308746337890625;
  //         buf = 0.75·0.22998046875 + g = 1.228794097900390625;
  //         p = 0.90093994140625 - 0.125·buf = 0.747340679168701171875
  const std::vector<float> after =
      steps(1.0f, {0.5f, -0.25f, 1.0f}, {0.125f, 0.75f, 0.0625f, 0.0f, false});
  // Step 3's values need more than fp32's 24 bits: each step rounds at most 6 times values below
  // 2 (so 2u each), and earlier errors are carried with factors below 1 (momentum, 1 - lr·wd):
  // at most 3 steps · 6 roundings · 2u · (1 + 0.75 + 0.75²) < 100u.
  const double atol = 100 * kF32UnitRoundoff;
  EXPECT_EQ(after[0], 0.9296875f);
  EXPECT_NEAR(after[1], 0.90093994140625, atol);
  EXPECT_NEAR(after[2], 0.747340679168701171875, atol);
}

TEST(SgdStep, FirstStepCopiesTheGradientIntoTheBufferEvenWithDampening) {
  // lr 0.125, momentum 0.75, dampening 0.5, param 1, gradients 0.5, 1:
  // step 1: buf = g = 0.5 (not (1 - 0.5)·g);  p = 1 - 0.125·0.5 = 0.9375
  // step 2: buf = 0.75·0.5 + 0.5·1 = 0.875;   p = 0.9375 - 0.125·0.875 = 0.828125
  float buffer = 0.0f;
  const std::vector<float> after =
      steps(1.0f, {0.5f, 1.0f}, {0.125f, 0.75f, 0.0f, 0.5f, false}, &buffer);
  EXPECT_EQ(after[0], 0.9375f);
  EXPECT_EQ(after[1], 0.828125f);
  EXPECT_EQ(buffer, 0.875f);
}

TEST(SgdStep, NesterovLooksAheadByTheMomentum) {
  // lr 0.125, momentum 0.75, nesterov, param 1, gradients 0.5, 1:
  // step 1: buf = 0.5;                   g = 0.5 + 0.75·0.5 = 0.875;    p = 1 - 0.125·0.875 =
  // 0.890625 step 2: buf = 0.75·0.5 + 1 = 1.375;  g = 1 + 0.75·1.375 = 2.03125;  p = 0.890625 -
  // 0.25390625 = 0.63671875
  const std::vector<float> after = steps(1.0f, {0.5f, 1.0f}, {0.125f, 0.75f, 0.0f, 0.0f, true});
  EXPECT_EQ(after[0], 0.890625f);
  EXPECT_EQ(after[1], 0.63671875f);
}

TEST(SgdStep, WithoutMomentumNeedsNoBuffer) {
  // p = 1 - 0.125·(0.5 + 0.0625·1) = 0.9296875
  HostTensor<float> p({1}, 1.0f), g({1}, 0.5f);
  cpu().sgd_step(p.view(), g.view(), Tensor(), {0.125f, 0.0f, 0.0625f, 0.0f, false}, true);
  EXPECT_EQ(p[0], 0.9296875f);
}

TEST(SgdStep, MatchesOracleStepByStep) {
  // 201² elements: the loop is split across threads, with a SIMD tail in each share.
  Rng rng(81);
  auto param = reference::uniform<float>({201, 201}, rng);
  HostTensor<float> buffer(param.shape());
  const SgdParams params;  // torch's ResNet recipe: lr 0.1, momentum 0.9, weight decay 1e-4
  for (int step = 0; step < 3; ++step) {
    const auto grad = reference::uniform<float>(param.shape(), rng);
    auto expected_param = param.cast<double>(), expected_buffer = buffer.cast<double>();
    reference::sgd_step(expected_param, grad.cast<double>(), expected_buffer, params, step == 0);
    // buf = momentum·buf + grad + wd·param is a 3-term sum; param - lr·buf adds 2 more roundings
    // to lr times buf's error.
    HostTensor<double> buffer_terms(param.shape()), param_terms(param.shape());
    for (std::int64_t i = 0; i < param.numel(); ++i) {
      buffer_terms[i] = (step ? params.momentum * std::abs(buffer[i]) : 0.0) + std::abs(grad[i]) +
                        params.weight_decay * std::abs(param[i]);
      param_terms[i] = std::abs(param[i]) + params.lr * buffer_terms[i];
    }
    cpu().sgd_step(param.view(), grad.view(), buffer.view(), params, step == 0);
    EXPECT_TRUE(reference::sum_close(buffer, expected_buffer, buffer_terms, 3)) << "step " << step;
    EXPECT_TRUE(reference::sum_close(param, expected_param, param_terms, 5)) << "step " << step;
  }
}

TEST(SgdChecks, NesterovWithDampeningIsRefused) {
  HostTensor<float> p({2}), g({2}), buf({2});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().sgd_step(p.view(), g.view(), buf.view(), {0.1f, 0.9f, 0.0f, 0.5f, true}, true);
      },
      {"sgd_step", "Nesterov", "dampening 0.5"}));
}

TEST(SgdChecks, GradientOfAnotherShapeNamesBothShapes) {
  HostTensor<float> p({2, 3}), g({3, 2}), buf({2, 3});
  EXPECT_TRUE(throws_naming([&] { cpu().sgd_step(p.view(), g.view(), buf.view(), {}, true); },
                            {"sgd_step", "grad", "[3, 2]", "[2, 3]"}));
}

// ---- sgd_step_all: the default, sgd_step entry by entry.

// One parameter of a multi-tensor step: its tensors on the host and whether it is its first step.
struct SgdEntry {
  HostTensor<float> param, grad, buffer;
  bool first_step;
};

// Parameters of sizes that are multiples of no block or vector width, first steps and later
// steps mixed; a first step's buffer holds a stale value that must be ignored.
std::vector<SgdEntry> odd_entries(Rng& rng) {
  std::vector<SgdEntry> entries;
  const Shape shapes[] = {{1}, {3}, {7, 13}, {1001}, {5, 3, 3, 3}};
  bool first_step = true;
  for (const Shape& shape : shapes) {
    auto param = reference::uniform<float>(shape, rng),
         grad = reference::uniform<float>(shape, rng);
    auto buffer =
        first_step ? HostTensor<float>(shape, 123.0f) : reference::uniform<float>(shape, rng);
    entries.push_back({param, grad, buffer, first_step});
    first_step = !first_step;
  }
  return entries;
}

std::vector<SgdTensors> sgd_tensors(const std::vector<SgdEntry>& entries) {
  std::vector<SgdTensors> tensors;
  for (const SgdEntry& e : entries) {
    tensors.push_back({e.param.view(), e.grad.view(), e.buffer.view(), e.first_step, Tensor()});
  }
  return tensors;
}

struct SgdVariant {
  const char* name;
  SgdParams params;
};

void PrintTo(const SgdVariant& variant, std::ostream* os) { *os << variant.name; }

class SgdStepAll : public ::testing::TestWithParam<SgdVariant> {};

TEST_P(SgdStepAll, EqualsSgdStepOnEachEntry) {
  const SgdParams& params = GetParam().params;
  Rng rng(83);
  const std::vector<SgdEntry> initial = odd_entries(rng);
  std::vector<SgdEntry> expected = initial, actual = initial;
  for (SgdEntry& e : expected) {
    cpu().sgd_step(e.param.view(), e.grad.view(), e.buffer.view(), params, e.first_step);
  }
  cpu().sgd_step_all(sgd_tensors(actual), params);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(reference::bitwise_equal(actual[i].param, expected[i].param)) << "param of entry " << i;
    EXPECT_TRUE(reference::bitwise_equal(actual[i].buffer, expected[i].buffer)) << "buffer of entry " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, SgdStepAll,
    ::testing::Values(SgdVariant{"MomentumAndWeightDecay", {0.1f, 0.9f, 1e-4f, 0.0f, false}},
                      SgdVariant{"Dampening", {0.1f, 0.9f, 1e-4f, 0.25f, false}},
                      SgdVariant{"Nesterov", {0.1f, 0.9f, 1e-4f, 0.0f, true}},
                      SgdVariant{"WithoutMomentum", {0.1f, 0.0f, 5e-4f, 0.0f, false}}),
    [](const ::testing::TestParamInfo<SgdVariant>& info) { return info.param.name; });

TEST(SgdStepAllChecks, AMismatchedEntryThrowsAsSgdStepAndUpdatesNothing) {
  Rng rng(84);
  std::vector<SgdEntry> entries = odd_entries(rng);
  entries.push_back(
      {HostTensor<float>({2, 3}), HostTensor<float>({3, 2}), HostTensor<float>({2, 3}), true});
  const std::vector<SgdEntry> before = entries;
  EXPECT_TRUE(throws_naming([&] { cpu().sgd_step_all(sgd_tensors(entries), {}); },
                            {"sgd_step", "grad", "[3, 2]", "[2, 3]"}));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_TRUE(reference::bitwise_equal(entries[i].param, before[i].param)) << "param of entry " << i;
  }
}

TEST(SgdStepAllChecks, NoEntriesIsNothingToDo) { EXPECT_NO_THROW(cpu().sgd_step_all({}, {})); }

}  // namespace
}  // namespace r50
