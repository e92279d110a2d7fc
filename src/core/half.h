// defines: float_to_fp16, fp16_to_float, float_to_bf16, bf16_to_float, floats_from, floats_into
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace r50 {

// IEEE binary16 (F16) and bfloat16 (BF16) as stored bits, converted on the host. To half:
// round to nearest, ties to even, as CUDA's __float2half_rn and __float2bfloat16_rn do; beyond
// the largest finite value an infinity; NaN stays a (quiet) NaN. To float: exact.
std::uint16_t float_to_fp16(float value);
float fp16_to_float(std::uint16_t bits);
std::uint16_t float_to_bf16(float value);
float bf16_to_float(std::uint16_t bits);

// `count` elements of `dtype` (F32, F16 or BF16) at `src` as floats into `dst`, and back, rounded
// as above. Throws for another dtype.
void floats_from(const void* src, DType dtype, std::int64_t count, float* dst);
void floats_into(const float* src, std::int64_t count, void* dst, DType dtype);

}  // namespace r50
