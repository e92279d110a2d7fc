// defines: reference::linear_forward, reference::LinearGrads, reference::linear_backward
#pragma once

#include <cstdint>

#include "reference/numerics.h"

namespace r50::reference {

// y[n, o] = b[o] + Σ_i x[n, i]·w[o, i].
template <typename T>
HostTensor<T> linear_forward(const HostTensor<T>& x, const HostTensor<T>& w,
                             const HostTensor<T>& b) {
  const std::int64_t N = x.shape()[0], IN = x.shape()[1], OUT = w.shape()[0];
  HostTensor<T> y({N, OUT});
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < OUT; ++o) {
      T sum = b[o];
      for (std::int64_t i = 0; i < IN; ++i) sum += x.at(n, i) * w.at(o, i);
      y.at(n, o) = sum;
    }
  return y;
}

template <typename T>
struct LinearGrads {
  HostTensor<T> dx, dw, db;
};

// The gradients of Σ dy·y: dx[n, i] = Σ_o dy[n, o]·w[o, i], dw[o, i] = Σ_n dy[n, o]·x[n, i],
// db[o] = Σ_n dy[n, o].
template <typename T>
LinearGrads<T> linear_backward(const HostTensor<T>& x, const HostTensor<T>& w,
                               const HostTensor<T>& dy) {
  const std::int64_t N = x.shape()[0], IN = x.shape()[1], OUT = w.shape()[0];
  LinearGrads<T> grads{HostTensor<T>(x.shape()), HostTensor<T>(w.shape()), HostTensor<T>({OUT})};
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < OUT; ++o) {
      grads.db[o] += dy.at(n, o);
      for (std::int64_t i = 0; i < IN; ++i) {
        grads.dx.at(n, i) += dy.at(n, o) * w.at(o, i);
        grads.dw.at(o, i) += dy.at(n, o) * x.at(n, i);
      }
    }
  return grads;
}

}  // namespace r50::reference
