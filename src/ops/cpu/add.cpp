#include <cstdint>

#include "ops/cpu/cpu_backend.h"
#include "ops/cpu/f32_staging.h"

namespace r50 {

void CpuBackend::add(const Tensor& a, const Tensor& b, const Tensor& y) {
  check_add(a, b, y, device());
  if (F32Staging::needed(a, F32Staging::Order::Kept)) {
    F32Staging f32(allocator_, F32Staging::Order::Kept);
    add(f32.input(a), f32.input(b), f32.output(y));
    f32.finish();
    return;
  }
  const float* lhs = a.data_as<float>();
  const float* rhs = b.data_as<float>();
  float* out = y.data_as<float>();
  const std::int64_t count = a.numel();
  // Element i reads only a[i] and b[i] before writing y[i], so y may alias either input.
#pragma omp parallel for simd num_threads(threads()) schedule(static) if (count > kParallelElements)
  for (std::int64_t i = 0; i < count; ++i) out[i] = lhs[i] + rhs[i];
}

}  // namespace r50
