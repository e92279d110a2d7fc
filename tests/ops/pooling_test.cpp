// Max pooling and global average pooling against their oracles, the rules for ties and padding,
// the oracles' backward passes against finite differences, and the checks.
#include "reference/pooling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;
using reference::kF32UnitRoundoff;

const Pool2dParams kResNetPool{3, 2, 1};  // ResNet-50's stem: 3×3, stride 2, padding 1
const Shape kX{2, 3, 11, 8};              // odd rows and even columns: both edge cases

TEST(MaxPool2dForward, MatchesOracleExactly) {
  Rng rng(61);
  const auto x = reference::uniform<float>(kX, rng);
  HostTensor<float> y(max_pool2d_output_shape(kX, kResNetPool), 7.0f);
  cpu().max_pool2d_forward(x.view(), y.view(), kResNetPool);
  EXPECT_TRUE(reference::all_close(y, reference::max_pool2d_forward(x, kResNetPool), 0.0, 0.0));
}

TEST(MaxPool2dForward, PaddingNeverWins) {
  // All values negative: a zero-padded window would report 0 at the border.
  HostTensor<float> x({1, 1, 4, 4}), y({1, 1, 2, 2});
  for (std::int64_t i = 0; i < 16; ++i) x[i] = -1.0f - static_cast<float>(i);
  cpu().max_pool2d_forward(x.view(), y.view(), kResNetPool);
  // Windows cover rows/columns {0, 1} and {1, 2, 3}: the top-left element of each is the largest.
  EXPECT_EQ(y.at(0, 0, 0, 0), x.at(0, 0, 0, 0));
  EXPECT_EQ(y.at(0, 0, 0, 1), x.at(0, 0, 0, 1));
  EXPECT_EQ(y.at(0, 0, 1, 0), x.at(0, 0, 1, 0));
  EXPECT_EQ(y.at(0, 0, 1, 1), x.at(0, 0, 1, 1));
}

TEST(MaxPool2dBackward, MatchesOracle) {
  Rng rng(62);
  const auto x = reference::uniform<float>(kX, rng);
  const auto y = reference::max_pool2d_forward(x, kResNetPool);
  const auto dy = reference::uniform<float>(y.shape(), rng);
  HostTensor<float> dx(kX, 7.0f);
  cpu().max_pool2d_backward(x.view(), y.view(), dy.view(), dx.view(), kResNetPool);
  const auto dy64 = dy.cast<double>();
  const auto expected =
      reference::max_pool2d_backward(x.cast<double>(), y.cast<double>(), dy64, kResNetPool);
  const auto magnitude = reference::max_pool2d_backward(x.cast<double>(), y.cast<double>(),
                                                        reference::abs_values(dy64), kResNetPool);
  // A 3×3 window moving by 2 overlaps its neighbours: an x collects from up to 2·2 windows.
  EXPECT_TRUE(reference::sum_close(dx, expected, magnitude, 4));
}

TEST(MaxPool2dBackward, SendsATieToTheFirstPositionInRowMajorOrder) {
  // One window (the whole 3×3 input, no padding) holding its maximum 5 three times.
  HostTensor<float> x({1, 1, 3, 3}, 1.0f), y({1, 1, 1, 1}), dy({1, 1, 1, 1}, 2.0f),
      dx({1, 1, 3, 3});
  x.at(0, 0, 0, 2) = 5.0f;
  x.at(0, 0, 1, 0) = 5.0f;
  x.at(0, 0, 2, 2) = 5.0f;
  const Pool2dParams whole{3, 1, 0};
  cpu().max_pool2d_forward(x.view(), y.view(), whole);
  cpu().max_pool2d_backward(x.view(), y.view(), dy.view(), dx.view(), whole);
  for (std::int64_t h = 0; h < 3; ++h)
    for (std::int64_t w = 0; w < 3; ++w)
      EXPECT_EQ(dx.at(0, 0, h, w), h == 0 && w == 2 ? 2.0f : 0.0f) << "at " << h << ", " << w;
}

TEST(MaxPool2dOracle, BackwardMatchesFiniteDifferences) {
  Rng rng(63);
  // Distinct values: a step h cannot change which tap of a window is largest.
  auto x = reference::uniform<double>({2, 2, 5, 6}, rng);
  const auto y = reference::max_pool2d_forward(x, kResNetPool);
  const auto dy = reference::uniform<double>(y.shape(), rng);
  const auto numeric = reference::numerical_gradient(
      x, [&] { return reference::dot(reference::max_pool2d_forward(x, kResNetPool), dy); });
  EXPECT_TRUE(
      reference::gradient_close(reference::max_pool2d_backward(x, y, dy, kResNetPool), numeric));
}

TEST(GlobalAvgPoolForward, MatchesOracle) {
  Rng rng(64);
  const auto x = reference::uniform<float>({3, 5, 7, 9}, rng);
  HostTensor<float> y({3, 5}, 7.0f);
  cpu().global_avg_pool_forward(x.view(), y.view());
  const auto expected = reference::global_avg_pool_forward(x.cast<double>());
  // The mean of 63 values computed in double, rounded once: u relative, plus the double sum's
  // error, at most 63·2^-53 of the mean of |x| <= max|x|.
  const double atol = reference::fp64_sum_error_bound(63) * reference::max_abs(x);
  EXPECT_TRUE(reference::all_close(y, expected, atol, kF32UnitRoundoff));
}

TEST(GlobalAvgPoolBackward, MatchesOracle) {
  Rng rng(65);
  const auto dy = reference::uniform<float>({3, 5}, rng);
  HostTensor<float> dx({3, 5, 7, 9}, 7.0f);
  cpu().global_avg_pool_backward(dy.view(), dx.view());
  const auto expected = reference::global_avg_pool_backward(dy.cast<double>(), dx.shape());
  // dy / 63 in double, rounded once.
  EXPECT_TRUE(reference::all_close(dx, expected, 0.0, kF32UnitRoundoff));
}

TEST(GlobalAvgPoolOracle, BackwardMatchesFiniteDifferences) {
  Rng rng(66);
  auto x = reference::uniform<double>({2, 3, 4, 5}, rng);
  const auto dy = reference::uniform<double>({2, 3}, rng);
  const auto numeric = reference::numerical_gradient(
      x, [&] { return reference::dot(reference::global_avg_pool_forward(x), dy); });
  EXPECT_TRUE(
      reference::gradient_close(reference::global_avg_pool_backward(dy, x.shape()), numeric));
}

TEST(PoolingChecks, MaxPoolWrongOutputNamesBothShapes) {
  HostTensor<float> x({2, 3, 8, 8}), y({2, 3, 3, 3});
  EXPECT_TRUE(throws_naming([&] { cpu().max_pool2d_forward(x.view(), y.view(), kResNetPool); },
                            {"max_pool2d_forward", "y", "[2, 3, 3, 3]", "[2, 3, 4, 4]"}));
}

TEST(PoolingChecks, MaxPoolBackwardWrongDxNamesBothShapes) {
  HostTensor<float> x({2, 3, 8, 8}), y({2, 3, 4, 4}), dy({2, 3, 4, 4}), dx({2, 3, 8, 7});
  EXPECT_TRUE(throws_naming(
      [&] { cpu().max_pool2d_backward(x.view(), y.view(), dy.view(), dx.view(), kResNetPool); },
      {"max_pool2d_backward", "dx", "[2, 3, 8, 7]", "[2, 3, 8, 8]"}));
}

TEST(PoolingChecks, GlobalAvgPoolWrongOutputNamesBothShapes) {
  HostTensor<float> x({2, 3, 4, 4}), y({3, 2});
  EXPECT_TRUE(throws_naming([&] { cpu().global_avg_pool_forward(x.view(), y.view()); },
                            {"global_avg_pool_forward", "y", "[3, 2]", "[2, 3]"}));
}

}  // namespace
}  // namespace r50
