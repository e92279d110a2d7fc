// ReLU forward and backward against the oracle (exact: no arithmetic to round), in place as the
// model uses them, and the oracle's backward against finite differences.
#include "reference/relu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;

// 3·5·7·11 = 1155 elements: a SIMD tail, and too few for the loop to be split across threads...
const Shape kSmall{3, 5, 7, 11};
// ...and 40,401 (201²) elements: split across threads, with a tail in each share.
const Shape kLarge{1, 1, 201, 201};

TEST(ReluForward, MatchesOracleExactly) {
  for (const Shape& shape : {kSmall, kLarge}) {
    Rng rng(41);
    const auto x = reference::uniform<float>(shape, rng);
    HostTensor<float> y(shape, 7.0f);
    cpu().relu_forward(x.view(), y.view());
    EXPECT_TRUE(reference::all_close(y, reference::relu_forward(x), 0.0, 0.0)) << shape.str();
  }
}

TEST(ReluForward, WorksInPlace) {
  Rng rng(42);
  auto x = reference::uniform<float>(kSmall, rng);
  const auto expected = reference::relu_forward(x);
  cpu().relu_forward(x.view(), x.view());
  EXPECT_TRUE(reference::all_close(x, expected, 0.0, 0.0));
}

TEST(ReluForward, KeepsNaNAsTorchDoes) {
  HostTensor<float> x({3}), y({3});
  x[0] = std::numeric_limits<float>::quiet_NaN();
  x[1] = -1.0f;
  x[2] = 2.0f;
  cpu().relu_forward(x.view(), y.view());
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], 2.0f);
}

TEST(ReluBackward, MatchesOracleExactly) {
  for (const Shape& shape : {kSmall, kLarge}) {
    Rng rng(43);
    const auto y = reference::relu_forward(reference::uniform<float>(shape, rng));
    const auto dy = reference::uniform<float>(shape, rng);
    HostTensor<float> dx(shape, 7.0f);
    cpu().relu_backward(y.view(), dy.view(), dx.view());
    EXPECT_TRUE(reference::all_close(dx, reference::relu_backward(y, dy), 0.0, 0.0)) << shape.str();
  }
}

TEST(ReluBackward, WorksInPlaceOnDy) {
  Rng rng(44);
  const auto y = reference::relu_forward(reference::uniform<float>(kSmall, rng));
  auto dy = reference::uniform<float>(kSmall, rng);
  const auto expected = reference::relu_backward(y, dy);
  cpu().relu_backward(y.view(), dy.view(), dy.view());
  EXPECT_TRUE(reference::all_close(dy, expected, 0.0, 0.0));
}

TEST(ReluOracle, BackwardMatchesFiniteDifferences) {
  Rng rng(45);
  // |x| >= 0.01, a thousand steps h away from the kink at 0, where the derivative jumps.
  HostTensor<double> x({2, 3, 4, 5});
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const double magnitude = rng.uniform(0.01, 1.0);
    x[i] = rng.uniform() < 0.5 ? -magnitude : magnitude;
  }
  const auto dy = reference::uniform<double>(x.shape(), rng);
  const auto numeric = reference::numerical_gradient(
      x, [&] { return reference::dot(reference::relu_forward(x), dy); });
  EXPECT_TRUE(
      reference::gradient_close(reference::relu_backward(reference::relu_forward(x), dy), numeric));
}

TEST(ReluChecks, WrongOutputShapeNamesBothShapes) {
  HostTensor<float> x({2, 3}), y({3, 2});
  EXPECT_TRUE(throws_naming([&] { cpu().relu_forward(x.view(), y.view()); },
                            {"relu_forward", "y", "[3, 2]", "[2, 3]"}));
}

}  // namespace
}  // namespace r50
