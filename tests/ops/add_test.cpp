// The residual add against its oracle, in place as the model uses it, and its checks.
#include "reference/add.h"

#include <gtest/gtest.h>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;

// 201² elements: split across threads, with a SIMD tail.
const Shape kShape{1, 1, 201, 201};

// One fp32 addition of exact inputs: rounded once, so |error| <= u·|a + b|.
constexpr double kRtol = reference::kF32UnitRoundoff;

TEST(Add, MatchesOracle) {
  Rng rng(51);
  const auto a = reference::uniform<float>(kShape, rng), b = reference::uniform<float>(kShape, rng);
  HostTensor<float> y(kShape, 7.0f);
  cpu().add(a.view(), b.view(), y.view());
  const auto expected = reference::add(a.cast<double>(), b.cast<double>());
  EXPECT_TRUE(reference::all_close(y, expected, 0.0, kRtol));
  EXPECT_LE(reference::relative_error(y, expected), kRtol);
}

TEST(Add, AccumulatesIntoEitherInput) {
  Rng rng(52);
  auto a = reference::uniform<float>(kShape, rng), b = reference::uniform<float>(kShape, rng);
  const auto expected = reference::add(a.cast<double>(), b.cast<double>());
  cpu().add(a.view(), b.view(), a.view());
  EXPECT_TRUE(reference::all_close(a, expected, 0.0, kRtol));
  auto c = reference::uniform<float>(kShape, rng);
  const auto expected_c = reference::add(b.cast<double>(), c.cast<double>());
  cpu().add(b.view(), c.view(), c.view());
  EXPECT_TRUE(reference::all_close(c, expected_c, 0.0, kRtol));
}

TEST(AddChecks, MismatchedShapesNameBoth) {
  HostTensor<float> a({2, 4, 3, 3}), b({2, 4, 3, 4}), y({2, 4, 3, 3});
  EXPECT_TRUE(throws_naming([&] { cpu().add(a.view(), b.view(), y.view()); },
                            {"add", "b", "[2, 4, 3, 4]", "[2, 4, 3, 3]"}));
}

TEST(AddChecks, WrongDtypeIsRefused) {
  HostTensor<float> a({4}), y({4});
  HostTensor<double> b({4});
  EXPECT_TRUE(throws_naming([&] { cpu().add(a.view(), b.view(), y.view()); },
                            {"add", "b", "F64[4]", "F32[4]"}));
}

}  // namespace
}  // namespace r50
