#include "core/precision.h"

#include "core/error.h"

namespace r50 {

Precision parse_precision(const std::string& text) {
  if (text == "fp32") return Precision::Fp32;
  if (text == "tf32") return Precision::Tf32;
  if (text == "fp16") return Precision::Fp16;
  if (text == "bf16") return Precision::Bf16;
  R50_THROW("unknown precision '", text, "': expected fp32, tf32, fp16 or bf16");
}

std::string precision_name(Precision precision) {
  switch (precision) {
    case Precision::Fp32: return "fp32";
    case Precision::Tf32: return "tf32";
    case Precision::Fp16: return "fp16";
    case Precision::Bf16: return "bf16";
  }
  return "unknown";
}

DType compute_dtype(Precision precision) {
  if (precision == Precision::Fp16) return DType::F16;
  if (precision == Precision::Bf16) return DType::BF16;
  return DType::F32;
}

int minimum_compute_capability(Precision precision) {
  return precision == Precision::Tf32 || precision == Precision::Bf16 ? 80 : 75;
}

}  // namespace r50
