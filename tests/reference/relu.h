// defines: reference::relu_forward, reference::relu_backward
#pragma once

#include <cstdint>

#include "reference/numerics.h"

namespace r50::reference {

// y = x where x > 0, else 0.
template <typename T>
HostTensor<T> relu_forward(const HostTensor<T>& x) {
  HostTensor<T> y(x.shape());
  for (std::int64_t i = 0; i < x.numel(); ++i) y[i] = x[i] > 0 ? x[i] : T(0);
  return y;
}

// dx = dy where the forward's output y > 0 (there ∂y/∂x = 1), else 0.
template <typename T>
HostTensor<T> relu_backward(const HostTensor<T>& y, const HostTensor<T>& dy) {
  HostTensor<T> dx(y.shape());
  for (std::int64_t i = 0; i < y.numel(); ++i) dx[i] = y[i] > 0 ? dy[i] : T(0);
  return dx;
}

}  // namespace r50::reference
