#include "core/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"

namespace r50 {
namespace {

bool is_nan_fp16(std::uint16_t bits) { return (bits & 0x7c00u) == 0x7c00u && (bits & 0x03ffu) != 0; }
bool is_nan_bf16(std::uint16_t bits) { return (bits & 0x7f80u) == 0x7f80u && (bits & 0x007fu) != 0; }

// Every binary16 value, widened to float and narrowed again, is itself: the widening is exact and
// the narrowing rounds an exact value to itself.
TEST(Half, EveryFp16ValueRoundTripsThroughFloat) {
  for (std::uint32_t bits = 0; bits <= 0xffffu; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    if (is_nan_fp16(h)) {
      EXPECT_TRUE(std::isnan(fp16_to_float(h))) << std::hex << bits;
      EXPECT_TRUE(is_nan_fp16(float_to_fp16(fp16_to_float(h)))) << std::hex << bits;
      continue;
    }
    ASSERT_EQ(float_to_fp16(fp16_to_float(h)), h) << std::hex << bits;
  }
}

TEST(Half, EveryBf16ValueRoundTripsThroughFloat) {
  for (std::uint32_t bits = 0; bits <= 0xffffu; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    if (is_nan_bf16(h)) {
      EXPECT_TRUE(std::isnan(bf16_to_float(h))) << std::hex << bits;
      continue;
    }
    ASSERT_EQ(float_to_bf16(bf16_to_float(h)), h) << std::hex << bits;
  }
}

TEST(Half, Fp16DecodesKnownValues) {
  EXPECT_EQ(fp16_to_float(0x3c00u), 1.0f);
  EXPECT_EQ(fp16_to_float(0xc000u), -2.0f);
  EXPECT_EQ(fp16_to_float(0x7bffu), 65504.0f);             // the largest finite value
  EXPECT_EQ(fp16_to_float(0x0400u), std::ldexp(1.0f, -14));  // the smallest normal
  EXPECT_EQ(fp16_to_float(0x0001u), std::ldexp(1.0f, -24));  // the smallest subnormal
  EXPECT_EQ(fp16_to_float(0x7c00u), std::numeric_limits<float>::infinity());
  EXPECT_EQ(bf16_to_float(0x3f80u), 1.0f);
  EXPECT_EQ(bf16_to_float(0x7f7fu), std::ldexp(255.0f / 128.0f, 127));  // bf16's largest
}

// Between two neighbouring finite values a and b, a value below their midpoint rounds to a,
// above it to b, and the midpoint itself to whichever has an even significand. Midpoints of
// neighbours carry one bit more than the half format, so float holds them exactly.
template <typename Narrow, typename Widen>
void expect_rounds_to_nearest_even(std::uint16_t first, std::uint16_t last, Narrow narrow, Widen widen) {
  for (std::uint32_t bits = first; bits < last; ++bits) {
    const auto a = static_cast<std::uint16_t>(bits), b = static_cast<std::uint16_t>(bits + 1);
    const float low = widen(a), high = widen(b);
    const float mid = low + (high - low) / 2;
    ASSERT_EQ(narrow(std::nextafter(mid, low)), a) << std::hex << bits;
    ASSERT_EQ(narrow(std::nextafter(mid, high)), b) << std::hex << bits;
    ASSERT_EQ(narrow(mid), (a & 1u) ? b : a) << std::hex << bits;
    ASSERT_EQ(narrow(-mid), static_cast<std::uint16_t>(((a & 1u) ? b : a) | 0x8000u)) << std::hex << bits;
  }
}

TEST(Half, Fp16RoundsToNearestEvenAcrossSubnormalsAndNormals) {
  expect_rounds_to_nearest_even(0x0000u, 0x7bffu, float_to_fp16, fp16_to_float);
}

TEST(Half, Bf16RoundsToNearestEvenAcrossSubnormalsAndNormals) {
  expect_rounds_to_nearest_even(0x0000u, 0x7f7fu, float_to_bf16, bf16_to_float);
}

TEST(Half, BeyondTheLargestFiniteValueIsInfinity) {
  // 65520 is the midpoint between 65504 and the next step, 65536, which is out of range: a tie
  // rounds to the even side, infinity.
  EXPECT_EQ(float_to_fp16(65519.0f), 0x7bffu);
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7c00u);
  EXPECT_EQ(float_to_fp16(-1e6f), 0xfc00u);
  EXPECT_EQ(float_to_fp16(std::numeric_limits<float>::infinity()), 0x7c00u);
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7f80u);
  EXPECT_TRUE(is_nan_fp16(float_to_fp16(std::nanf(""))));
  EXPECT_TRUE(is_nan_bf16(float_to_bf16(std::nanf(""))));
}

TEST(Half, BelowHalfTheSmallestSubnormalIsZero) {
  const float smallest = std::ldexp(1.0f, -24);
  EXPECT_EQ(float_to_fp16(smallest / 2), 0x0000u);  // a tie, to the even zero
  EXPECT_EQ(float_to_fp16(std::nextafter(smallest / 2, 1.0f)), 0x0001u);
  EXPECT_EQ(float_to_fp16(-smallest / 4), 0x8000u);
  EXPECT_EQ(float_to_fp16(std::numeric_limits<float>::denorm_min()), 0x0000u);
}

TEST(Half, ConvertsArraysBothWays) {
  const std::vector<float> values = {1.0f, -0.333333f, 1e-3f, 70000.0f};
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    std::vector<std::uint8_t> stored(values.size() * dtype_size(dtype));
    floats_into(values.data(), 4, stored.data(), dtype);
    std::vector<float> back(4);
    floats_from(stored.data(), dtype, 4, back.data());
    for (std::size_t i = 0; i < values.size(); ++i) {
      const float expected = dtype == DType::F32   ? values[i]
                             : dtype == DType::F16 ? fp16_to_float(float_to_fp16(values[i]))
                                                   : bf16_to_float(float_to_bf16(values[i]));
      EXPECT_EQ(back[i], expected) << dtype_name(dtype) << " " << values[i];
    }
  }
  float out = 0;
  EXPECT_THROW(floats_from(&out, DType::I32, 1, &out), Error);
}

}  // namespace
}  // namespace r50
