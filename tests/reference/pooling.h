// defines: reference::max_pool2d_forward, reference::max_pool2d_backward,
//          reference::global_avg_pool_forward, reference::global_avg_pool_backward
#pragma once

#include <cstdint>
#include <limits>

#include "ops/backend.h"
#include "reference/conv.h"
#include "reference/numerics.h"

namespace r50::reference {

// y[n, c, p, q] = the largest x[n, c, h, v] over the window's taps inside x (padding never wins).
template <typename T>
HostTensor<T> max_pool2d_forward(const HostTensor<T>& x, const Pool2dParams& params) {
  const std::int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::int64_t P = window_count(H, params.kernel, params.stride, params.padding);
  const std::int64_t Q = window_count(W, params.kernel, params.stride, params.padding);
  HostTensor<T> y({N, C, P, Q});
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t p = 0; p < P; ++p)
        for (std::int64_t q = 0; q < Q; ++q) {
          T best = -std::numeric_limits<T>::infinity();
          for (std::int64_t r = 0; r < params.kernel; ++r)
            for (std::int64_t s = 0; s < params.kernel; ++s) {
              const std::int64_t h = p * params.stride - params.padding + r;
              const std::int64_t v = q * params.stride - params.padding + s;
              if (h >= 0 && h < H && v >= 0 && v < W && x.at(n, c, h, v) > best)
                best = x.at(n, c, h, v);
            }
          y.at(n, c, p, q) = best;
        }
  return y;
}

// Each dy[n, c, p, q] goes to the first tap of its window, in row-major order, where x equals y.
template <typename T>
HostTensor<T> max_pool2d_backward(const HostTensor<T>& x, const HostTensor<T>& y,
                                  const HostTensor<T>& dy, const Pool2dParams& params) {
  const std::int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::int64_t P = y.shape()[2], Q = y.shape()[3];
  HostTensor<T> dx(x.shape());
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t p = 0; p < P; ++p)
        for (std::int64_t q = 0; q < Q; ++q) {
          bool sent = false;
          for (std::int64_t r = 0; r < params.kernel; ++r)
            for (std::int64_t s = 0; s < params.kernel; ++s) {
              const std::int64_t h = p * params.stride - params.padding + r;
              const std::int64_t v = q * params.stride - params.padding + s;
              if (!sent && h >= 0 && h < H && v >= 0 && v < W &&
                  x.at(n, c, h, v) == y.at(n, c, p, q)) {
                dx.at(n, c, h, v) += dy.at(n, c, p, q);
                sent = true;
              }
            }
        }
  return dx;
}

// y[n, c] = Σ_{h, v} x[n, c, h, v] / (H·W).
template <typename T>
HostTensor<T> global_avg_pool_forward(const HostTensor<T>& x) {
  const std::int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  HostTensor<T> y({N, C});
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c) {
      T sum = 0;
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t v = 0; v < W; ++v) sum += x.at(n, c, h, v);
      y.at(n, c) = sum / static_cast<T>(H * W);
    }
  return y;
}

// Every x[n, c, h, v] contributes 1/(H·W) of itself to y[n, c].
template <typename T>
HostTensor<T> global_avg_pool_backward(const HostTensor<T>& dy, const Shape& x_shape) {
  const std::int64_t N = x_shape[0], C = x_shape[1], H = x_shape[2], W = x_shape[3];
  HostTensor<T> dx(x_shape);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t v = 0; v < W; ++v)
          dx.at(n, c, h, v) = dy.at(n, c) / static_cast<T>(H * W);
  return dx;
}

}  // namespace r50::reference
