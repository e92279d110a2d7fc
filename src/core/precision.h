// defines: Precision, parse_precision, precision_name, minimum_compute_capability, compute_dtype
#pragma once

#include <string>

#include "core/dtype.h"

namespace r50 {

// The arithmetic of a run (DESIGN.md, Precision). fp32 is IEEE fp32 everywhere; tf32 runs the
// convolutions and GEMMs on tensor cores with fp32 data (10-bit mantissa products, fp32 sums);
// fp16 and bf16 are mixed precision with fp32 master weights. Never a silent default.
enum class Precision { Fp32, Tf32, Fp16, Bf16 };

Precision parse_precision(const std::string& text);  // "fp32", "tf32", "fp16", "bf16"; throws otherwise
std::string precision_name(Precision precision);

// The oldest compute capability that runs `precision`, as major * 10 + minor: tf32 and bf16 need
// Ampere's tensor cores (80); fp16 and fp32 run everywhere this program does (75).
int minimum_compute_capability(Precision precision);

// The dtype a model's activations take: F16 and BF16 for the mixed precisions, else F32.
DType compute_dtype(Precision precision);

}  // namespace r50
