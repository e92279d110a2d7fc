// The CPU backend's ops on F16 and BF16 tensors (backend.h, Dtypes): each computes in fp32 and
// rounds what it stores, so it equals the F32 op on the same (exactly widened) values, rounded
// once. The checks that refuse mixed dtypes, the cast, the overflow test of loss scaling, and
// SGD's half-precision gradients and compute copies.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/half.h"
#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"

namespace r50 {
namespace {

// Values of a half dtype kept on the host, with their F32 widening for the F32 op.
struct HalfValues {
  DType dtype;
  std::vector<std::uint16_t> bits;

  HalfValues(DType dtype, std::int64_t count) : dtype(dtype), bits(static_cast<std::size_t>(count)) {}
  Tensor view(const Shape& shape) { return Tensor(bits.data(), shape, dtype); }
  std::vector<float> widened() const {
    std::vector<float> values(bits.size());
    floats_from(bits.data(), dtype, static_cast<std::int64_t>(bits.size()), values.data());
    return values;
  }
};

HalfValues random_half(DType dtype, std::int64_t count, std::uint64_t seed) {
  std::vector<float> values(static_cast<std::size_t>(count));
  Rng rng(seed);
  for (float& value : values) value = static_cast<float>(rng.normal());
  HalfValues half(dtype, count);
  floats_into(values.data(), count, half.bits.data(), dtype);
  return half;
}

std::vector<std::uint16_t> rounded(const std::vector<float>& values, DType dtype) {
  std::vector<std::uint16_t> bits(values.size());
  floats_into(values.data(), static_cast<std::int64_t>(values.size()), bits.data(), dtype);
  return bits;
}

class HalfOps : public ::testing::TestWithParam<DType> {};

INSTANTIATE_TEST_SUITE_P(Dtypes, HalfOps, ::testing::Values(DType::F16, DType::BF16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

// 2·5·9·7 = 630 images' worth of values at odd sizes, so no block size divides them.
TEST_P(HalfOps, ConvolutionIsTheF32ConvolutionRoundedOnce) {
  const DType dtype = GetParam();
  const Shape xs{2, 5, 9, 7}, ws{3, 5, 3, 3};
  const Conv2dParams params{2, 1};
  HalfValues x = random_half(dtype, xs.numel(), 1), w = random_half(dtype, ws.numel(), 2);
  const Shape ys = conv2d_output_shape(xs, ws, params);
  HalfValues y(dtype, ys.numel());
  cpu().conv2d_forward(x.view(xs), w.view(ws), y.view(ys), params);

  std::vector<float> xf = x.widened(), wf = w.widened(), yf(static_cast<std::size_t>(ys.numel()));
  cpu().conv2d_forward(Tensor(xf.data(), xs, DType::F32), Tensor(wf.data(), ws, DType::F32),
                       Tensor(yf.data(), ys, DType::F32), params);
  EXPECT_EQ(y.bits, rounded(yf, dtype));
}

TEST_P(HalfOps, AccumulatingBackwardDataAddsToTheHalfValuesThere) {
  const DType dtype = GetParam();
  const Shape dxs{2, 4, 6, 5}, ws{3, 4, 1, 1};
  const Conv2dParams params{1, 0};
  const Shape dys = conv2d_output_shape(dxs, ws, params);
  HalfValues dy = random_half(dtype, dys.numel(), 3), w = random_half(dtype, ws.numel(), 4);
  HalfValues dx = random_half(dtype, dxs.numel(), 5);
  const std::vector<float> before = dx.widened();
  cpu().conv2d_backward_data(dy.view(dys), w.view(ws), dx.view(dxs), params, true);

  std::vector<float> dyf = dy.widened(), wf = w.widened(), sum = before;
  cpu().conv2d_backward_data(Tensor(dyf.data(), dys, DType::F32), Tensor(wf.data(), ws, DType::F32),
                             Tensor(sum.data(), dxs, DType::F32), params, true);
  EXPECT_EQ(dx.bits, rounded(sum, dtype));
}

TEST_P(HalfOps, BatchNormKeepsF32StatisticsAndRoundsItsOutput) {
  const DType dtype = GetParam();
  const Shape xs{3, 4, 5, 7};
  HalfValues x = random_half(dtype, xs.numel(), 6), y(dtype, xs.numel());
  std::vector<float> gamma = {1.0f, 0.5f, -2.0f, 3.0f}, beta = {0.0f, 1.0f, -1.0f, 0.25f};
  auto run = [&](const Tensor& in, const Tensor& out, std::vector<float>& mean, std::vector<float>& invstd,
                 std::vector<float>& running_mean, std::vector<float>& running_var) {
    cpu().batch_norm_forward_training(in, Tensor(gamma.data(), {4}, DType::F32), Tensor(beta.data(), {4}, DType::F32),
                                      Tensor(running_mean.data(), {4}, DType::F32),
                                      Tensor(running_var.data(), {4}, DType::F32), out,
                                      Tensor(mean.data(), {4}, DType::F32), Tensor(invstd.data(), {4}, DType::F32), {});
  };
  std::vector<float> mean(4), invstd(4), running_mean(4, 0.0f), running_var(4, 1.0f);
  run(x.view(xs), y.view(xs), mean, invstd, running_mean, running_var);

  std::vector<float> xf = x.widened(), yf(xf.size()), mean_f(4), invstd_f(4), rm_f(4, 0.0f), rv_f(4, 1.0f);
  run(Tensor(xf.data(), xs, DType::F32), Tensor(yf.data(), xs, DType::F32), mean_f, invstd_f, rm_f, rv_f);
  EXPECT_EQ(y.bits, rounded(yf, dtype));
  EXPECT_EQ(mean, mean_f);
  EXPECT_EQ(invstd, invstd_f);
  EXPECT_EQ(running_var, rv_f);
}

// The fused op rounds y once, after the residual's sum and the ReLU, as its CUDA kernel does; a
// half batch-norm output added to the residual would be rounded twice.
TEST_P(HalfOps, BatchNormAddReluRoundsItsOutputOnce) {
  const DType dtype = GetParam();
  const Shape xs{3, 4, 5, 7};
  HalfValues x = random_half(dtype, xs.numel(), 7), residual = random_half(dtype, xs.numel(), 8);
  HalfValues y(dtype, xs.numel());
  std::vector<float> gamma = {1.0f, 0.5f, -2.0f, 3.0f}, beta = {0.0f, 1.0f, -1.0f, 0.25f};
  auto run = [&](const Tensor& in, const Tensor& sum, const Tensor& out) {
    std::vector<float> mean(4), invstd(4), running_mean(4, 0.0f), running_var(4, 1.0f);
    cpu().batch_norm_relu_forward_training(
        in, Tensor(gamma.data(), {4}, DType::F32), Tensor(beta.data(), {4}, DType::F32),
        Tensor(running_mean.data(), {4}, DType::F32), Tensor(running_var.data(), {4}, DType::F32), sum, out,
        Tensor(mean.data(), {4}, DType::F32), Tensor(invstd.data(), {4}, DType::F32), {});
  };
  run(x.view(xs), residual.view(xs), y.view(xs));

  std::vector<float> xf = x.widened(), rf = residual.widened(), yf(xf.size());
  run(Tensor(xf.data(), xs, DType::F32), Tensor(rf.data(), xs, DType::F32), Tensor(yf.data(), xs, DType::F32));
  EXPECT_EQ(y.bits, rounded(yf, dtype));
}

TEST_P(HalfOps, ReluWorksInPlace) {
  const DType dtype = GetParam();
  HalfValues x = random_half(dtype, 101, 7);
  const std::vector<float> values = x.widened();
  cpu().relu_forward(x.view({101}), x.view({101}));
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(x.widened()[i], values[i] < 0 ? 0.0f : values[i]) << i;
  }
}

TEST_P(HalfOps, SoftmaxReadsHalfLogitsAndWritesF32ProbabilitiesAndLoss) {
  const DType dtype = GetParam();
  HalfValues logits = random_half(dtype, 3 * 5, 8), dlogits(dtype, 3 * 5);
  std::vector<std::int32_t> labels = {0, 4, 2};
  std::vector<float> probs(15), loss(1), probs_f(15), loss_f(1), widened = logits.widened(), dlogits_f(15);
  const Tensor labels_t(labels.data(), {3}, DType::I32);
  cpu().softmax_cross_entropy_forward(logits.view({3, 5}), labels_t, Tensor(probs.data(), {3, 5}, DType::F32),
                                      Tensor(loss.data(), {1}, DType::F32));
  cpu().softmax_cross_entropy_forward(Tensor(widened.data(), {3, 5}, DType::F32), labels_t,
                                      Tensor(probs_f.data(), {3, 5}, DType::F32), Tensor(loss_f.data(), {1}, DType::F32));
  EXPECT_EQ(probs, probs_f);
  EXPECT_EQ(loss, loss_f);
  // A loss scale of 1024 multiplies the gradient exactly (a power of two), before rounding.
  cpu().softmax_cross_entropy_backward(Tensor(probs.data(), {3, 5}, DType::F32), labels_t, dlogits.view({3, 5}), 1024.0f);
  cpu().softmax_cross_entropy_backward(Tensor(probs_f.data(), {3, 5}, DType::F32), labels_t,
                                       Tensor(dlogits_f.data(), {3, 5}, DType::F32), 1024.0f);
  EXPECT_EQ(dlogits.bits, rounded(dlogits_f, dtype));
}

TEST_P(HalfOps, CastRoundsToNearestEvenAndScales) {
  const DType dtype = GetParam();
  std::vector<float> values = {1.0f, 1.0f / 3.0f, -70000.0f, 1e-6f, 0.0f};
  HalfValues half(dtype, 5);
  cpu().cast(Tensor(values.data(), {5}, DType::F32), half.view({5}), 4.0f);
  for (float& value : values) value *= 4.0f;
  EXPECT_EQ(half.bits, rounded(values, dtype));
  std::vector<float> back(5);
  cpu().cast(half.view({5}), Tensor(back.data(), {5}, DType::F32), 0.25f);
  const std::vector<float> widened = half.widened();
  for (std::size_t i = 0; i < back.size(); ++i) EXPECT_EQ(back[i], widened[i] * 0.25f) << i;
}

TEST_P(HalfOps, FindNonFiniteSetsTheFlagOnlyForAnInfinityOrNaN) {
  const DType dtype = GetParam();
  HalfValues finite = random_half(dtype, 37, 9), overflowed = random_half(dtype, 37, 10);
  const std::uint16_t infinity = dtype == DType::F16 ? 0x7c00u : 0x7f80u;
  std::vector<float> f32 = {1.0f, -2.0f, 3.0f};
  float found = 0.0f;
  const Tensor flag(&found, {1}, DType::F32);
  cpu().find_non_finite({finite.view({37}), Tensor(f32.data(), {3}, DType::F32)}, flag);
  EXPECT_EQ(found, 0.0f);
  overflowed.bits[36] = infinity;
  cpu().find_non_finite({finite.view({37}), overflowed.view({37})}, flag);
  EXPECT_EQ(found, 1.0f);
  found = 0.0f;
  f32[1] = std::numeric_limits<float>::quiet_NaN();
  cpu().find_non_finite({Tensor(f32.data(), {3}, DType::F32)}, flag);
  EXPECT_EQ(found, 1.0f);
}

// Mixed precision's update: master weights F32, gradients in the half dtype times the loss scale,
// read through grad_scale; the compute copy is the updated master weight rounded.
TEST_P(HalfOps, SgdReadsScaledHalfGradientsAndRefreshesTheComputeCopy) {
  const DType dtype = GetParam();
  constexpr std::int64_t kCount = 29;
  HalfValues grad = random_half(dtype, kCount, 11), copy(dtype, kCount);
  std::vector<float> param(kCount), buffer(kCount, 0.0f);
  Rng rng(12);
  for (float& value : param) value = static_cast<float>(rng.normal());
  std::vector<float> param_f = param, buffer_f = buffer, grad_f = grad.widened();
  SgdParams params{0.1f, 0.9f, 1e-4f, 0.0f, false};
  params.grad_scale = 1.0f / 512.0f;
  cpu().sgd_step_all({{Tensor(param.data(), {kCount}, DType::F32), grad.view({kCount}),
                       Tensor(buffer.data(), {kCount}, DType::F32), true, copy.view({kCount})}},
                     params);
  for (float& value : grad_f) value /= 512.0f;  // exact: a power of two, far from underflow
  params.grad_scale = 1.0f;
  cpu().sgd_step(Tensor(param_f.data(), {kCount}, DType::F32), Tensor(grad_f.data(), {kCount}, DType::F32),
                 Tensor(buffer_f.data(), {kCount}, DType::F32), params, true);
  EXPECT_EQ(param, param_f);
  EXPECT_EQ(buffer, buffer_f);
  EXPECT_EQ(copy.bits, rounded(param_f, dtype));
}

TEST_P(HalfOps, FillRoundsTheValueOnce) {
  const DType dtype = GetParam();
  HalfValues half(dtype, 9);
  cpu().fill(half.view({9}), 0.1f);
  EXPECT_EQ(half.bits, rounded(std::vector<float>(9, 0.1f), dtype));
}

TEST(HalfOpsChecks, AnOpRefusesTensorsOfTwoFloatingDtypes) {
  std::vector<std::uint16_t> x(2 * 3 * 4 * 4);
  std::vector<float> w(3 * 3), y(2 * 3 * 4 * 4);
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().conv2d_forward(Tensor(x.data(), {2, 3, 4, 4}, DType::F16), Tensor(w.data(), {3, 3, 1, 1}, DType::F32),
                             Tensor(y.data(), {2, 3, 4, 4}, DType::F32), {});
      },
      {"conv2d_forward", "w", "F32[3, 3, 1, 1]", "F16"}));
  std::vector<std::uint16_t> bf(5), f16(5);
  EXPECT_TRUE(throws_naming(
      [&] { cpu().add(Tensor(f16.data(), {5}, DType::F16), Tensor(bf.data(), {5}, DType::BF16), Tensor(f16.data(), {5}, DType::F16)); },
      {"add", "b", "BF16[5]", "F16"}));
}

TEST(HalfOpsChecks, BatchNormStatisticsMustStayF32) {
  std::vector<std::uint16_t> x(2 * 2 * 3 * 3), y(2 * 2 * 3 * 3), gamma(2);
  std::vector<float> beta(2), rm(2), rv(2), mean(2), invstd(2);
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().batch_norm_forward_training(
            Tensor(x.data(), {2, 2, 3, 3}, DType::F16), Tensor(gamma.data(), {2}, DType::F16),
            Tensor(beta.data(), {2}, DType::F32), Tensor(rm.data(), {2}, DType::F32), Tensor(rv.data(), {2}, DType::F32),
            Tensor(y.data(), {2, 2, 3, 3}, DType::F16), Tensor(mean.data(), {2}, DType::F32),
            Tensor(invstd.data(), {2}, DType::F32), {});
      },
      {"batch_norm_forward_training", "gamma", "F16[2]", "F32"}));
}

TEST(HalfOpsChecks, CastRefusesAnAliasOfAnotherDtypeAndAnotherShape) {
  std::vector<float> values(4);
  EXPECT_TRUE(throws_naming(
      [&] { cpu().cast(Tensor(values.data(), {4}, DType::F32), Tensor(values.data(), {4}, DType::F16)); },
      {"cast", "aliases"}));
  std::vector<std::uint16_t> half(3);
  EXPECT_TRUE(throws_naming(
      [&] { cpu().cast(Tensor(values.data(), {4}, DType::F32), Tensor(half.data(), {3}, DType::F16)); },
      {"cast", "F16[3]", "F32[4]"}));
}

}  // namespace
}  // namespace r50
