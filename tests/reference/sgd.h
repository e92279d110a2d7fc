// defines: reference::sgd_step
#pragma once

#include <cstdint>

#include "ops/backend.h"
#include "reference/numerics.h"

namespace r50::reference {

// One torch.optim.SGD step, as its documentation writes it, per element:
//   g = grad + weight_decay·param
//   buf = g on the first step, else momentum·buf + (1 - dampening)·g   (only with momentum)
//   g = nesterov ? g + momentum·buf : buf                              (only with momentum)
//   param = param - lr·g
template <typename T>
void sgd_step(HostTensor<T>& param, const HostTensor<T>& grad, HostTensor<T>& momentum_buffer,
              const SgdParams& params, bool first_step) {
  const T lr = params.lr, momentum = params.momentum, dampening = params.dampening;
  const T weight_decay = params.weight_decay;
  for (std::int64_t i = 0; i < param.numel(); ++i) {
    T g = grad[i] + weight_decay * param[i];
    if (momentum != 0) {
      momentum_buffer[i] = first_step ? g : momentum * momentum_buffer[i] + (1 - dampening) * g;
      g = params.nesterov ? g + momentum * momentum_buffer[i] : momentum_buffer[i];
    }
    param[i] = param[i] - lr * g;
  }
}

}  // namespace r50::reference
