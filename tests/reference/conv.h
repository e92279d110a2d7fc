// defines: reference::conv2d_forward, reference::conv2d_backward_data,
//          reference::conv2d_backward_filter
#pragma once

#include <cstdint>

#include "ops/backend.h"
#include "reference/numerics.h"

namespace r50::reference {

// Output size straight from the definition: the window of `kernel` taps, moved by `stride` over
// the input padded by `padding` on each side, fits this many times.
inline std::int64_t window_count(std::int64_t input, std::int64_t kernel, int stride, int padding) {
  return (input + 2 * padding - kernel) / stride + 1;
}

// y[n, k, p, q] = Σ_{c, r, s} x[n, c, p·stride - padding + r, q·stride - padding + s]
//                              ·w[k, c, r, s],
// where a tap outside x reads zero.
template <typename T>
HostTensor<T> conv2d_forward(const HostTensor<T>& x, const HostTensor<T>& w,
                             const Conv2dParams& params) {
  const std::int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::int64_t K = w.shape()[0], R = w.shape()[2], S = w.shape()[3];
  const std::int64_t P = window_count(H, R, params.stride, params.padding);
  const std::int64_t Q = window_count(W, S, params.stride, params.padding);
  HostTensor<T> y({N, K, P, Q});
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t p = 0; p < P; ++p)
        for (std::int64_t q = 0; q < Q; ++q) {
          T sum = 0;
          for (std::int64_t c = 0; c < C; ++c)
            for (std::int64_t r = 0; r < R; ++r)
              for (std::int64_t s = 0; s < S; ++s) {
                const std::int64_t h = p * params.stride - params.padding + r;
                const std::int64_t v = q * params.stride - params.padding + s;
                if (h >= 0 && h < H && v >= 0 && v < W) sum += x.at(n, c, h, v) * w.at(k, c, r, s);
              }
          y.at(n, k, p, q) = sum;
        }
  return y;
}

// dx = ∂(Σ dy·y)/∂x: every product x[n, c, h, v]·w[k, c, r, s] of the forward sends
// dy[n, k, p, q]·w[k, c, r, s] back to x[n, c, h, v].
template <typename T>
HostTensor<T> conv2d_backward_data(const HostTensor<T>& dy, const HostTensor<T>& w,
                                   const Shape& x_shape, const Conv2dParams& params) {
  const std::int64_t N = x_shape[0], C = x_shape[1], H = x_shape[2], W = x_shape[3];
  const std::int64_t K = w.shape()[0], R = w.shape()[2], S = w.shape()[3];
  const std::int64_t P = dy.shape()[2], Q = dy.shape()[3];
  HostTensor<T> dx(x_shape);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t p = 0; p < P; ++p)
        for (std::int64_t q = 0; q < Q; ++q)
          for (std::int64_t c = 0; c < C; ++c)
            for (std::int64_t r = 0; r < R; ++r)
              for (std::int64_t s = 0; s < S; ++s) {
                const std::int64_t h = p * params.stride - params.padding + r;
                const std::int64_t v = q * params.stride - params.padding + s;
                if (h >= 0 && h < H && v >= 0 && v < W)
                  dx.at(n, c, h, v) += dy.at(n, k, p, q) * w.at(k, c, r, s);
              }
  return dx;
}

// dw = ∂(Σ dy·y)/∂w: dw[k, c, r, s] = Σ_{n, p, q} dy[n, k, p, q]·x[n, c, h, v] over in-range taps.
template <typename T>
HostTensor<T> conv2d_backward_filter(const HostTensor<T>& x, const HostTensor<T>& dy,
                                     const Shape& w_shape, const Conv2dParams& params) {
  const std::int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::int64_t K = w_shape[0], R = w_shape[2], S = w_shape[3];
  const std::int64_t P = dy.shape()[2], Q = dy.shape()[3];
  HostTensor<T> dw(w_shape);
  for (std::int64_t k = 0; k < K; ++k)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t r = 0; r < R; ++r)
        for (std::int64_t s = 0; s < S; ++s) {
          T sum = 0;
          for (std::int64_t n = 0; n < N; ++n)
            for (std::int64_t p = 0; p < P; ++p)
              for (std::int64_t q = 0; q < Q; ++q) {
                const std::int64_t h = p * params.stride - params.padding + r;
                const std::int64_t v = q * params.stride - params.padding + s;
                if (h >= 0 && h < H && v >= 0 && v < W) sum += dy.at(n, k, p, q) * x.at(n, c, h, v);
              }
          dw.at(k, c, r, s) = sum;
        }
  return dw;
}

}  // namespace r50::reference
