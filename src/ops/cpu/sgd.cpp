// torch.optim.SGD's update, element by element, in the order torch computes it: g = grad +
// wd·param; buf = momentum·buf + (1 - dampening)·g (g itself on the first step); g = nesterov ?
// g + momentum·buf : buf; param -= lr·g. Rounding can differ from torch's by an ulp where its
// vector code fuses a multiply-add.
#include <cstdint>

#include "ops/cpu/cpu_backend.h"

namespace r50 {

void CpuBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                          const SgdParams& params, bool first_step) {
  const char* op = "sgd_step";
  check_f32_input(param, op, "param", param.rank());
  check_tensor(grad, op, "grad", DType::F32, param.shape());
  const bool use_momentum = params.momentum != 0.0f;
  if (use_momentum) check_tensor(momentum_buffer, op, "momentum_buffer", DType::F32, param.shape());
  R50_CHECK(!params.nesterov || (params.momentum > 0.0f && params.dampening == 0.0f), op,
            ": Nesterov momentum requires a momentum and zero dampening (as torch.optim.SGD), got "
            "momentum ",
            params.momentum, " dampening ", params.dampening);
  float* w = param.data_as<float>();
  const float* g_in = grad.data_as<float>();
  float* buf = use_momentum ? momentum_buffer.data_as<float>() : nullptr;
  const float lr = params.lr, momentum = params.momentum, weight_decay = params.weight_decay;
  const float keep = 1.0f - params.dampening;
  const bool nesterov = params.nesterov;
  const std::int64_t count = param.numel();
#pragma omp parallel for simd num_threads(threads()) schedule(static) if (count > kParallelElements)
  for (std::int64_t i = 0; i < count; ++i) {
    float g = g_in[i] + weight_decay * w[i];
    if (use_momentum) {
      buf[i] = first_step ? g : momentum * buf[i] + keep * g;
      g = nesterov ? g + momentum * buf[i] : buf[i];
    }
    w[i] -= lr * g;
  }
}

}  // namespace r50
