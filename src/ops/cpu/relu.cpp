#include <cstdint>

#include "ops/cpu/cpu_backend.h"
#include "ops/cpu/f32_staging.h"

namespace r50 {

void CpuBackend::relu_forward(const Tensor& x, const Tensor& y) {
  check_relu_forward(x, y, device());
  if (F32Staging::needed(x, F32Staging::Order::Kept)) {
    F32Staging f32(allocator_, F32Staging::Order::Kept);
    relu_forward(f32.input(x), f32.output(y));
    f32.finish();
    return;
  }
  const float* in = x.data_as<float>();
  float* out = y.data_as<float>();
  const std::int64_t count = x.numel();
  // Selecting between loaded values, not references (std::max), lets the loop become a vector
  // max instead of a branch that random signs mispredict; v < 0 ? 0 : v keeps a NaN, as torch.
#pragma omp parallel for simd num_threads(threads()) schedule(static) if (count > kParallelElements)
  for (std::int64_t i = 0; i < count; ++i) {
    const float v = in[i];
    out[i] = v < 0.0f ? 0.0f : v;
  }
}

void CpuBackend::relu_backward(const Tensor& y, const Tensor& dy, const Tensor& dx) {
  check_relu_backward(y, dy, dx, device());
  if (F32Staging::needed(y, F32Staging::Order::Kept)) {
    F32Staging f32(allocator_, F32Staging::Order::Kept);
    relu_backward(f32.input(y), f32.input(dy), f32.output(dx));
    f32.finish();
    return;
  }
  const float* out = y.data_as<float>();
  const float* grad = dy.data_as<float>();
  float* grad_in = dx.data_as<float>();
  const std::int64_t count = y.numel();
#pragma omp parallel for simd num_threads(threads()) schedule(static) if (count > kParallelElements)
  for (std::int64_t i = 0; i < count; ++i) {
    const float g = grad[i];  // loaded unconditionally, so the select needs no branch
    grad_in[i] = out[i] > 0.0f ? g : 0.0f;
  }
}

}  // namespace r50
