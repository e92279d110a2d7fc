// Batch norm (training and inference, forward and backward) against its oracle, the running
// statistics against hand-derived values, the oracle against finite differences, and the checks.
#include "reference/batchnorm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;
using reference::kF32UnitRoundoff;

constexpr double u = kF32UnitRoundoff;
const Shape kShape{3, 5, 7, 9};  // count = 3·7·9 = 189 values per channel
constexpr std::int64_t kC = 5, kCount = 3 * 7 * 9;

// Activations as a network has them: each channel with its own mean (-2 to 2) and spread, so
// that the mean matters and the variance is not 1.
HostTensor<float> activations(Rng& rng) {
  HostTensor<float> x(kShape);
  for (std::int64_t n = 0; n < kShape[0]; ++n)
    for (std::int64_t c = 0; c < kC; ++c)
      for (std::int64_t i = 0; i < kShape[2] * kShape[3]; ++i)
        x[(n * kC + c) * kShape[2] * kShape[3] + i] =
            static_cast<float>((c - 2.0) + (0.5 + 0.4 * c) * rng.uniform(-1.0, 1.0));
  return x;
}

struct Channels {
  Rng rng{31};
  HostTensor<float> x = activations(rng);
  HostTensor<float> gamma = reference::uniform<float>({kC}, rng, 0.5, 1.5);
  HostTensor<float> beta = reference::uniform<float>({kC}, rng);
  HostTensor<float> running_mean = reference::uniform<float>({kC}, rng);
  HostTensor<float> running_var = reference::uniform<float>({kC}, rng, 0.5, 2.0);
  HostTensor<float> dy = reference::uniform<float>(kShape, rng);
};

// y = (x - mean)·scale + beta in fp32, against the exact value: the mean and scale = gamma·invstd
// are each rounded once, and the subtraction, product and sum round once each, so to first order
// |error| <= u·(|scale|·(|mean| + 3|x - mean|) + |y|).
double affine_atol(const HostTensor<float>& x, const HostTensor<double>& y,
                   const HostTensor<double>& mean, const HostTensor<double>& scale) {
  double atol = 0.0;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const std::int64_t c = i / (kShape[2] * kShape[3]) % kC;
    const double centered = std::abs(x[i] - mean[c]);
    atol = std::max(atol,
                    u * (std::abs(scale[c]) * (std::abs(mean[c]) + 3 * centered) + std::abs(y[i])));
  }
  return atol;
}

double max_abs_xhat(const HostTensor<float>& x, const HostTensor<double>& mean,
                    const HostTensor<double>& invstd) {
  double largest = 0.0;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const std::int64_t c = i / (kShape[2] * kShape[3]) % kC;
    largest = std::max(largest, std::abs((x[i] - mean[c]) * invstd[c]));
  }
  return largest;
}

HostTensor<double> product(const HostTensor<float>& a, const HostTensor<double>& b) {
  HostTensor<double> out(b.shape());
  for (std::int64_t i = 0; i < b.numel(); ++i) out[i] = a[i] * b[i];
  return out;
}

// A per-channel value computed in double from `kCount` terms and rounded once to fp32.
constexpr double kRoundedRtol = u;
const double kRoundedSumAtol = reference::fp64_sum_error_bound(kCount);

TEST(BatchNormForwardTraining, MatchesOracle) {
  const Channels in;
  HostTensor<float> y(kShape, 7.0f), saved_mean({kC}), saved_invstd({kC});
  HostTensor<float> running_mean = in.running_mean, running_var = in.running_var;
  const BatchNormParams params;
  cpu().batch_norm_forward_training(in.x.view(), in.gamma.view(), in.beta.view(),
                                    running_mean.view(), running_var.view(), y.view(),
                                    saved_mean.view(), saved_invstd.view(), params);
  const auto expected = reference::batch_norm_forward_training(
      in.x.cast<double>(), in.gamma.cast<double>(), in.beta.cast<double>(),
      in.running_mean.cast<double>(), in.running_var.cast<double>(), params);
  const double max_x = reference::max_abs(in.x);
  EXPECT_TRUE(
      reference::all_close(saved_mean, expected.saved_mean, kRoundedSumAtol * max_x, kRoundedRtol));
  EXPECT_TRUE(reference::all_close(saved_invstd, expected.saved_invstd, 0.0,
                                   kRoundedRtol + kRoundedSumAtol));
  EXPECT_TRUE(reference::all_close(running_mean, expected.running_mean,
                                   kRoundedSumAtol * (max_x + 1.0), kRoundedRtol));
  EXPECT_TRUE(
      reference::all_close(running_var, expected.running_var, 0.0, kRoundedRtol + kRoundedSumAtol));
  const double atol =
      affine_atol(in.x, expected.y, expected.saved_mean, product(in.gamma, expected.saved_invstd));
  EXPECT_TRUE(reference::all_close(y, expected.y, atol, 0.0));
  EXPECT_LT(reference::relative_error(y, expected.y),
            atol * std::sqrt(double(y.numel())) / reference::norm2(expected.y));
}

TEST(BatchNormForwardTraining, UpdatesRunningVarWithTheUnbiasedVariance) {
  // One channel holding 1, 2, 3, 4: mean 2.5, biased variance 1.25, unbiased 1.25·4/3 = 5/3.
  HostTensor<float> x({1, 1, 2, 2}), y({1, 1, 2, 2}), saved_mean({1}), saved_invstd({1});
  for (int i = 0; i < 4; ++i) x[i] = static_cast<float>(i + 1);
  HostTensor<float> gamma({1}, 1.0f), beta({1}, 0.0f), running_mean({1}, 0.0f),
      running_var({1}, 1.0f);
  cpu().batch_norm_forward_training(x.view(), gamma.view(), beta.view(), running_mean.view(),
                                    running_var.view(), y.view(), saved_mean.view(),
                                    saved_invstd.view(), {0.1f, 1e-5f});
  // running = 0.9·running + 0.1·batch, each rounded once to fp32.
  EXPECT_FLOAT_EQ(running_mean[0], 0.1 * 2.5);
  EXPECT_FLOAT_EQ(running_var[0], 0.9 * 1.0 + 0.1 * (5.0 / 3.0));
  EXPECT_FLOAT_EQ(saved_mean[0], 2.5f);
  EXPECT_FLOAT_EQ(saved_invstd[0], 1.0 / std::sqrt(1.25 + 1e-5));  // the biased variance
}

TEST(BatchNormForwardTraining, RefusesOneValuePerChannel) {
  HostTensor<float> x({1, 3, 1, 1}), y({1, 3, 1, 1}), v({3}, 1.0f), a({3}), b({3}), c({3}), d({3});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().batch_norm_forward_training(x.view(), v.view(), v.view(), a.view(), b.view(),
                                          y.view(), c.view(), d.view(), {});
      },
      {"batch_norm_forward_training", "more than one value per channel", "[1, 3, 1, 1]"}));
}

TEST(BatchNormForwardInference, MatchesOracle) {
  const Channels in;
  HostTensor<float> y(kShape, 7.0f);
  const float eps = 1e-5f;
  cpu().batch_norm_forward_inference(in.x.view(), in.gamma.view(), in.beta.view(),
                                     in.running_mean.view(), in.running_var.view(), y.view(), eps);
  const auto mean = in.running_mean.cast<double>();
  const auto expected = reference::batch_norm_forward_inference(
      in.x.cast<double>(), in.gamma.cast<double>(), in.beta.cast<double>(), mean,
      in.running_var.cast<double>(), double(eps));
  HostTensor<double> scale({kC});
  for (std::int64_t c = 0; c < kC; ++c)
    scale[c] = in.gamma[c] / std::sqrt(double(in.running_var[c]) + eps);
  const double atol = affine_atol(in.x, expected, mean, scale);
  EXPECT_TRUE(reference::all_close(y, expected, atol, 0.0));
  EXPECT_LT(reference::relative_error(y, expected),
            atol * std::sqrt(double(y.numel())) / reference::norm2(expected));
}

TEST(BatchNormBackwardTraining, MatchesOracle) {
  const Channels in;
  HostTensor<float> y(kShape), saved_mean({kC}), saved_invstd({kC});
  HostTensor<float> running_mean = in.running_mean, running_var = in.running_var;
  cpu().batch_norm_forward_training(in.x.view(), in.gamma.view(), in.beta.view(),
                                    running_mean.view(), running_var.view(), y.view(),
                                    saved_mean.view(), saved_invstd.view(), {});
  HostTensor<float> dx(kShape, 7.0f), dgamma({kC}, 7.0f), dbeta({kC}, 7.0f);
  cpu().batch_norm_backward_training(in.x.view(), in.dy.view(), in.gamma.view(), saved_mean.view(),
                                     saved_invstd.view(), dx.view(), dgamma.view(), dbeta.view());
  // The oracle sees the same (fp32) saved statistics the backend was given.
  const auto mean = saved_mean.cast<double>(), invstd = saved_invstd.cast<double>();
  const auto expected = reference::batch_norm_backward_training(
      in.x.cast<double>(), in.dy.cast<double>(), in.gamma.cast<double>(), mean, invstd);
  // dgamma and dbeta are sums in double of kCount terms of size at most max|dy|·max(1, |xhat|).
  const double sum_scale =
      kCount * reference::max_abs(in.dy) * std::max(1.0, max_abs_xhat(in.x, mean, invstd));
  EXPECT_TRUE(
      reference::all_close(dbeta, expected.dbeta, kRoundedSumAtol * sum_scale, kRoundedRtol));
  EXPECT_TRUE(
      reference::all_close(dgamma, expected.dgamma, kRoundedSumAtol * sum_scale, kRoundedRtol));
  // dx = scale·(dy - mean(dy) - xhat·dgamma/count), scale = gamma·invstd: each of the three terms
  // passes through at most 6 fp32 roundings (its coefficient, the centring, the products, the two
  // subtractions), so |error| <= 6u·|scale|·(|dy| + |mean(dy)| + |xhat·dgamma|/count).
  double atol = 0.0;
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = i / (kShape[2] * kShape[3]) % kC;
    const double xhat = (in.x[i] - mean[c]) * invstd[c];
    const double terms = std::abs(in.dy[i]) + std::abs(expected.dbeta[c] / kCount) +
                         std::abs(xhat * expected.dgamma[c] / kCount);
    atol = std::max(atol, 6 * u * std::abs(in.gamma[c] * invstd[c]) * terms);
  }
  EXPECT_TRUE(reference::all_close(dx, expected.dx, atol, 0.0));
  EXPECT_LT(reference::relative_error(dx, expected.dx),
            atol * std::sqrt(double(dx.numel())) / reference::norm2(expected.dx));
}

TEST(BatchNormBackwardInference, MatchesOracle) {
  const Channels in;
  const float eps = 1e-5f;
  HostTensor<float> dx(kShape, 7.0f), dgamma({kC}, 7.0f), dbeta({kC}, 7.0f);
  cpu().batch_norm_backward_inference(in.x.view(), in.dy.view(), in.gamma.view(),
                                      in.running_mean.view(), in.running_var.view(), eps, dx.view(),
                                      dgamma.view(), dbeta.view());
  const auto expected = reference::batch_norm_backward_inference(
      in.x.cast<double>(), in.dy.cast<double>(), in.gamma.cast<double>(),
      in.running_mean.cast<double>(), in.running_var.cast<double>(), double(eps));
  // dx = dy·fl(gamma·invstd): two roundings after an invstd exact to double precision.
  EXPECT_TRUE(reference::all_close(
      dx, expected.dx, 0.0, reference::fp32_roundings(2) + reference::fp64_sum_error_bound(2)));
  HostTensor<double> invstd({kC});
  for (std::int64_t c = 0; c < kC; ++c)
    invstd[c] = 1.0 / std::sqrt(double(in.running_var[c]) + eps);
  const double sum_scale =
      kCount * reference::max_abs(in.dy) *
      std::max(1.0, max_abs_xhat(in.x, in.running_mean.cast<double>(), invstd));
  EXPECT_TRUE(
      reference::all_close(dbeta, expected.dbeta, kRoundedSumAtol * sum_scale, kRoundedRtol));
  EXPECT_TRUE(
      reference::all_close(dgamma, expected.dgamma, kRoundedSumAtol * sum_scale, kRoundedRtol));
}

// The oracle's backward passes are the gradients of L = Σ dy·forward(x, gamma, beta).
class BatchNormOracleGradient : public ::testing::Test {
 protected:
  Rng rng{32};
  HostTensor<double> x = reference::uniform<double>({2, 3, 3, 4}, rng, -2.0, 3.0);
  HostTensor<double> gamma = reference::uniform<double>({3}, rng, 0.5, 1.5);
  HostTensor<double> beta = reference::uniform<double>({3}, rng);
  HostTensor<double> running_mean = reference::uniform<double>({3}, rng);
  HostTensor<double> running_var = reference::uniform<double>({3}, rng, 0.5, 2.0);
  HostTensor<double> dy = reference::uniform<double>({2, 3, 3, 4}, rng);
  const BatchNormParams params;

  double training_loss() const {
    return reference::dot(
        reference::batch_norm_forward_training(x, gamma, beta, running_mean, running_var, params).y,
        dy);
  }
  double inference_loss() const {
    return reference::dot(
        reference::batch_norm_forward_inference(x, gamma, beta, running_mean, running_var, 1e-5),
        dy);
  }
};

TEST_F(BatchNormOracleGradient, TrainingBackwardMatchesFiniteDifferences) {
  const auto forward =
      reference::batch_norm_forward_training(x, gamma, beta, running_mean, running_var, params);
  const auto grads = reference::batch_norm_backward_training(x, dy, gamma, forward.saved_mean,
                                                             forward.saved_invstd);
  const auto loss = [&] { return training_loss(); };
  EXPECT_TRUE(reference::gradient_close(grads.dx, reference::numerical_gradient(x, loss)));
  EXPECT_TRUE(reference::gradient_close(grads.dgamma, reference::numerical_gradient(gamma, loss)));
  EXPECT_TRUE(reference::gradient_close(grads.dbeta, reference::numerical_gradient(beta, loss)));
}

TEST_F(BatchNormOracleGradient, InferenceBackwardMatchesFiniteDifferences) {
  const auto grads =
      reference::batch_norm_backward_inference(x, dy, gamma, running_mean, running_var, 1e-5);
  const auto loss = [&] { return inference_loss(); };
  EXPECT_TRUE(reference::gradient_close(grads.dx, reference::numerical_gradient(x, loss)));
  EXPECT_TRUE(reference::gradient_close(grads.dgamma, reference::numerical_gradient(gamma, loss)));
  EXPECT_TRUE(reference::gradient_close(grads.dbeta, reference::numerical_gradient(beta, loss)));
}

TEST(BatchNormChecks, WrongChannelVectorNamesBothShapes) {
  HostTensor<float> x({2, 4, 3, 3}), y({2, 4, 3, 3}), gamma({5}), v({4});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().batch_norm_forward_inference(x.view(), gamma.view(), v.view(), v.view(), v.view(),
                                           y.view(), 1e-5f);
      },
      {"batch_norm_forward_inference", "gamma", "[5]", "[4]"}));
}

TEST(BatchNormChecks, BackwardWrongDyNamesBothShapes) {
  HostTensor<float> x({2, 4, 3, 3}), dy({2, 4, 3, 2}), dx({2, 4, 3, 3}), v({4});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().batch_norm_backward_training(x.view(), dy.view(), v.view(), v.view(), v.view(),
                                           dx.view(), v.view(), v.view());
      },
      {"batch_norm_backward_training", "dy", "[2, 4, 3, 2]", "[2, 4, 3, 3]"}));
}

}  // namespace
}  // namespace r50
