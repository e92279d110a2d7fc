// torch.optim.SGD's update, element by element, in the order torch computes it: g = grad +
// wd·param, grad first times grad_scale (exact for 1, and for the powers of two that loss scaling
// uses); buf = momentum·buf + (1 - dampening)·g (g itself on the first step); g = nesterov ?
// g + momentum·buf : buf; param -= lr·g. Rounding can differ from torch's by an ulp where its
// vector code fuses a multiply-add.
#include <cstdint>

#include "ops/cpu/cpu_backend.h"
#include "ops/cpu/f32_staging.h"

namespace r50 {

void CpuBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                          const SgdParams& params, bool first_step) {
  check_sgd_step(param, grad, momentum_buffer, params, device());
  if (F32Staging::needed(grad, F32Staging::Order::Kept)) {
    F32Staging f32(allocator_, F32Staging::Order::Kept);
    sgd_step(param, f32.input(grad), momentum_buffer, params, first_step);
    f32.finish();
    return;
  }
  const bool use_momentum = params.momentum != 0.0f;
  float* w = param.data_as<float>();
  const float* g_in = grad.data_as<float>();
  float* buf = use_momentum ? momentum_buffer.data_as<float>() : nullptr;
  const float lr = params.lr, momentum = params.momentum, weight_decay = params.weight_decay;
  const float grad_scale = params.grad_scale;
  const float keep = 1.0f - params.dampening;
  const bool nesterov = params.nesterov;
  const std::int64_t count = param.numel();
#pragma omp parallel for simd num_threads(threads()) schedule(static) if (count > kParallelElements)
  for (std::int64_t i = 0; i < count; ++i) {
    float g = grad_scale * g_in[i] + weight_decay * w[i];
    if (use_momentum) {
      buf[i] = first_step ? g : momentum * buf[i] + keep * g;
      g = nesterov ? g + momentum * buf[i] : buf[i];
    }
    w[i] -= lr * g;
  }
}

}  // namespace r50
