// Image normalisation (uint8 NHWC to float NCHW) against its oracle, and its checks.
#include "reference/normalize.h"

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

HostTensor<std::uint8_t> random_images(const Shape& shape, Rng& rng) {
  HostTensor<std::uint8_t> images(shape);
  for (std::int64_t i = 0; i < images.numel(); ++i)
    images[i] = static_cast<std::uint8_t>(rng.below(256));
  return images;
}

TEST(NormalizeImages, MatchesOracle) {
  Rng rng(91);
  const auto images = random_images({3, 17, 29, 3}, rng);
  HostTensor<float> y({3, 3, 17, 29}, 7.0f);
  cpu().normalize_images(images.view(), y.view(), kImageNetMean, kImageNetStd);
  const auto expected = reference::normalize_images<double>(images, kImageNetMean, kImageNetStd);
  // y = fl(fl(v·scale) + shift) with scale = fl(1/fl(255·std)) and shift = fl(-mean/std): v·scale
  // carries three roundings, shift one, the sum one more, so to first order
  // |error| <= u·(3|v/(255·std)| + |mean/std| + |y|).
  double atol = 0.0;
  for (std::int64_t n = 0; n < 3; ++n)
    for (int c = 0; c < 3; ++c)
      for (std::int64_t h = 0; h < 17; ++h)
        for (std::int64_t w = 0; w < 29; ++w) {
          const double term = images.at(n, h, w, c) / (255.0 * kImageNetStd[c]);
          const double shift = kImageNetMean[c] / double(kImageNetStd[c]);
          atol = std::max(
              atol, kF32UnitRoundoff * (3 * term + shift + std::abs(expected.at(n, c, h, w))));
        }
  EXPECT_TRUE(reference::all_close(y, expected, atol, 0.0));
  EXPECT_LE(reference::relative_error(y, expected),
            atol * std::sqrt(double(y.numel())) / reference::norm2(expected));
}

TEST(NormalizeImages, MapsBlackAndWhiteToTheEndsOfEachChannel) {
  HostTensor<std::uint8_t> images({1, 1, 2, 3});
  for (int c = 0; c < 3; ++c) {
    images.at(0, 0, 0, c) = 0;
    images.at(0, 0, 1, c) = 255;
  }
  HostTensor<float> y({1, 3, 1, 2});
  cpu().normalize_images(images.view(), y.view(), kImageNetMean, kImageNetStd);
  for (int c = 0; c < 3; ++c) {
    // A handful of roundings of values below 2.7 (see MatchesOracle): 1e-6 is about 17u·2.7.
    EXPECT_NEAR(y.at(0, c, 0, 0), -kImageNetMean[c] / double(kImageNetStd[c]), 1e-6)
        << "channel " << c;
    EXPECT_NEAR(y.at(0, c, 0, 1), (1.0 - kImageNetMean[c]) / double(kImageNetStd[c]), 1e-6)
        << "channel " << c;
  }
}

TEST(NormalizeImagesChecks, ImagesMustBeU8WithThreeChannelsLast) {
  HostTensor<std::uint8_t> four_channels({1, 2, 2, 4});
  HostTensor<float> y({1, 3, 2, 2}), as_float({1, 2, 2, 3});
  EXPECT_TRUE(throws_naming(
      [&] { cpu().normalize_images(four_channels.view(), y.view(), kImageNetMean, kImageNetStd); },
      {"normalize_images", "U8[1, 2, 2, 4]", "U8[N, H, W, 3]"}));
  EXPECT_TRUE(throws_naming(
      [&] { cpu().normalize_images(as_float.view(), y.view(), kImageNetMean, kImageNetStd); },
      {"normalize_images", "F32[1, 2, 2, 3]"}));
}

TEST(NormalizeImagesChecks, WrongOutputShapeNamesBothShapes) {
  HostTensor<std::uint8_t> images({2, 4, 5, 3});
  HostTensor<float> y({2, 3, 5, 4});
  EXPECT_TRUE(throws_naming(
      [&] { cpu().normalize_images(images.view(), y.view(), kImageNetMean, kImageNetStd); },
      {"normalize_images", "y", "[2, 3, 5, 4]", "[2, 3, 4, 5]"}));
}

}  // namespace
}  // namespace r50
