#include <cstdint>

#include "ops/cpu/cpu_backend.h"

namespace r50 {

void CpuBackend::add(const Tensor& a, const Tensor& b, const Tensor& y) {
  const char* op = "add";
  check_f32_input(a, op, "a", a.rank());
  check_tensor(b, op, "b", DType::F32, a.shape());
  check_tensor(y, op, "y", DType::F32, a.shape());
  const float* lhs = a.data_as<float>();
  const float* rhs = b.data_as<float>();
  float* out = y.data_as<float>();
  const std::int64_t count = a.numel();
  // Element i reads only a[i] and b[i] before writing y[i], so y may alias either input.
#pragma omp parallel for simd num_threads(threads()) schedule(static) if (count > kParallelElements)
  for (std::int64_t i = 0; i < count; ++i) out[i] = lhs[i] + rhs[i];
}

}  // namespace r50
