#include "core/half.h"

#include <cstring>

#include "core/error.h"

namespace r50 {
namespace {

std::uint32_t bits_of(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float float_of(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// `bits` shifted right by `shift`, rounded to nearest, ties to the even result.
std::uint32_t shift_right_rounded(std::uint32_t bits, int shift) {
  const std::uint32_t kept = bits >> shift;
  const std::uint32_t rest = bits & ((1u << shift) - 1u);
  const std::uint32_t half = 1u << (shift - 1);
  return kept + (rest > half || (rest == half && (kept & 1u)) ? 1u : 0u);
}

}  // namespace

std::uint16_t float_to_fp16(float value) {
  const std::uint32_t bits = bits_of(value);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  const std::uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {  // infinity, or NaN kept quiet
    return static_cast<std::uint16_t>(sign | 0x7c00u | (magnitude > 0x7f800000u ? 0x0200u : 0u));
  }
  const int exponent = static_cast<int>(magnitude >> 23) - 127;
  if (exponent >= -14) {
    // Normal in binary16 unless rounding carries past the largest exponent, which the carry into
    // the exponent field turns into infinity by itself (0x7bff + 1 = 0x7c00).
    if (exponent > 15) return static_cast<std::uint16_t>(sign | 0x7c00u);
    const std::uint32_t rebiased = magnitude - (static_cast<std::uint32_t>(127 - 15) << 23);
    return static_cast<std::uint16_t>(sign | shift_right_rounded(rebiased, 13));
  }
  // Subnormal (or zero) in binary16: the significand with its implicit 1, in units of 2^-24.
  if (exponent < -25) return static_cast<std::uint16_t>(sign);  // below half the smallest subnormal
  const std::uint32_t significand = (magnitude & 0x7fffffu) | 0x800000u;
  return static_cast<std::uint16_t>(sign | shift_right_rounded(significand, -exponent - 1));
}

float fp16_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  std::uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1fu) return float_of(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return float_of(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
  if (mantissa == 0) return float_of(sign);
  // Subnormal: normalise the mantissa into float's implicit-1 form.
  int shift = 0;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    ++shift;
  }
  return float_of(sign | (static_cast<std::uint32_t>(127 - 15 + 1 - shift) << 23) | ((mantissa & 0x3ffu) << 13));
}

std::uint16_t float_to_bf16(float value) {
  const std::uint32_t bits = bits_of(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
  // A carry out of the mantissa rounds up into the exponent, and past the largest into infinity.
  return static_cast<std::uint16_t>(shift_right_rounded(bits, 16));
}

float bf16_to_float(std::uint16_t bits) { return float_of(static_cast<std::uint32_t>(bits) << 16); }

void floats_from(const void* src, DType dtype, std::int64_t count, float* dst) {
  switch (dtype) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<std::size_t>(count) * sizeof(float));
      return;
    case DType::F16:
      for (std::int64_t i = 0; i < count; ++i) dst[i] = fp16_to_float(static_cast<const std::uint16_t*>(src)[i]);
      return;
    case DType::BF16:
      for (std::int64_t i = 0; i < count; ++i) dst[i] = bf16_to_float(static_cast<const std::uint16_t*>(src)[i]);
      return;
    default:
      R50_THROW("floats_from: ", dtype_name(dtype), " is not F32, F16 or BF16");
  }
}

void floats_into(const float* src, std::int64_t count, void* dst, DType dtype) {
  switch (dtype) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<std::size_t>(count) * sizeof(float));
      return;
    case DType::F16:
      for (std::int64_t i = 0; i < count; ++i) static_cast<std::uint16_t*>(dst)[i] = float_to_fp16(src[i]);
      return;
    case DType::BF16:
      for (std::int64_t i = 0; i < count; ++i) static_cast<std::uint16_t*>(dst)[i] = float_to_bf16(src[i]);
      return;
    default:
      R50_THROW("floats_into: ", dtype_name(dtype), " is not F32, F16 or BF16");
  }
}

}  // namespace r50
