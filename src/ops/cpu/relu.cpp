#include <cstdint>

#include "ops/cpu/cpu_backend.h"

namespace r50 {

void CpuBackend::relu_forward(const Tensor& x, const Tensor& y) {
  const char* op = "relu_forward";
  check_f32_input(x, op, "x", x.rank());
  check_tensor(y, op, "y", DType::F32, x.shape());
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
  const char* op = "relu_backward";
  check_f32_input(y, op, "y", y.rank());
  check_tensor(dy, op, "dy", DType::F32, y.shape());
  check_tensor(dx, op, "dx", DType::F32, y.shape());
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
