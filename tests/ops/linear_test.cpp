// The fully connected layer against its oracle, the oracle against finite differences, and the
// argument checks.
#include "reference/linear.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;

// Odd sizes; IN = 300 takes the dot products past a 256-deep GEMM block.
constexpr std::int64_t kN = 5, kIn = 300, kOut = 37;

struct LinearInputs {
  Rng rng{21};
  HostTensor<float> x = reference::uniform<float>({kN, kIn}, rng);
  HostTensor<float> w = reference::uniform<float>({kOut, kIn}, rng);
  HostTensor<float> b = reference::uniform<float>({kOut}, rng);
  HostTensor<float> dy = reference::uniform<float>({kN, kOut}, rng);
};

TEST(LinearForward, MatchesOracle) {
  const LinearInputs in;
  HostTensor<float> y({kN, kOut}, 7.0f);
  cpu().linear_forward(in.x.view(), in.w.view(), in.b.view(), y.view());
  const auto x = in.x.cast<double>(), w = in.w.cast<double>(), b = in.b.cast<double>();
  const auto expected = reference::linear_forward(x, w, b);
  const auto magnitude = reference::linear_forward(
      reference::abs_values(x), reference::abs_values(w), reference::abs_values(b));
  EXPECT_TRUE(reference::sum_close(y, expected, magnitude, kIn + 1));  // IN products and the bias
}

TEST(LinearBackward, MatchesOracle) {
  const LinearInputs in;
  HostTensor<float> dx({kN, kIn}, 7.0f), dw({kOut, kIn}, 7.0f), db({kOut}, 7.0f);
  cpu().linear_backward(in.x.view(), in.w.view(), in.dy.view(), dx.view(), dw.view(), db.view());
  const auto x = in.x.cast<double>(), w = in.w.cast<double>(), dy = in.dy.cast<double>();
  const auto expected = reference::linear_backward(x, w, dy);
  const auto magnitude = reference::linear_backward(
      reference::abs_values(x), reference::abs_values(w), reference::abs_values(dy));
  EXPECT_TRUE(reference::sum_close(dx, expected.dx, magnitude.dx, kOut));
  EXPECT_TRUE(reference::sum_close(dw, expected.dw, magnitude.dw, kN));
  EXPECT_TRUE(reference::sum_close(db, expected.db, magnitude.db, kN));
}

TEST(LinearBackward, SkipsDxWhenItIsNotDefined) {
  const LinearInputs in;
  HostTensor<float> dw({kOut, kIn}), db({kOut});
  cpu().linear_backward(in.x.view(), in.w.view(), in.dy.view(), Tensor(), dw.view(), db.view());
  const auto x = in.x.cast<double>(), w = in.w.cast<double>(), dy = in.dy.cast<double>();
  const auto expected = reference::linear_backward(x, w, dy);
  const auto magnitude = reference::linear_backward(
      reference::abs_values(x), reference::abs_values(w), reference::abs_values(dy));
  EXPECT_TRUE(reference::sum_close(dw, expected.dw, magnitude.dw, kN));
  EXPECT_TRUE(reference::sum_close(db, expected.db, magnitude.db, kN));
}

TEST(LinearOracle, BackwardMatchesFiniteDifferences) {
  Rng rng(22);
  auto x = reference::uniform<double>({3, 4}, rng), w = reference::uniform<double>({5, 4}, rng);
  auto b = reference::uniform<double>({5}, rng);
  const auto dy = reference::uniform<double>({3, 5}, rng);
  const auto loss = [&] { return reference::dot(reference::linear_forward(x, w, b), dy); };
  const auto grads = reference::linear_backward(x, w, dy);
  EXPECT_TRUE(reference::gradient_close(grads.dx, reference::numerical_gradient(x, loss)));
  EXPECT_TRUE(reference::gradient_close(grads.dw, reference::numerical_gradient(w, loss)));
  EXPECT_TRUE(reference::gradient_close(grads.db, reference::numerical_gradient(b, loss)));
}

TEST(LinearChecks, WeightWithWrongInputWidthNamesBothShapes) {
  HostTensor<float> x({2, 8}), w({3, 9}), b({3}), y({2, 3});
  EXPECT_TRUE(throws_naming([&] { cpu().linear_forward(x.view(), w.view(), b.view(), y.view()); },
                            {"linear_forward", "w", "[3, 9]", "[3, 8]"}));
}

TEST(LinearChecks, WrongBiasNamesBothShapes) {
  HostTensor<float> x({2, 8}), w({3, 8}), b({4}), y({2, 3});
  EXPECT_TRUE(throws_naming([&] { cpu().linear_forward(x.view(), w.view(), b.view(), y.view()); },
                            {"linear_forward", "b", "[4]", "[3]"}));
}

TEST(LinearChecks, BackwardWrongDyNamesBothShapes) {
  HostTensor<float> x({2, 8}), w({3, 8}), dy({3, 2}), dx({2, 8}), dw({3, 8}), db({3});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().linear_backward(x.view(), w.view(), dy.view(), dx.view(), dw.view(), db.view());
      },
      {"linear_backward", "dy", "[3, 2]", "[2, 3]"}));
}

}  // namespace
}  // namespace r50
