// defines: reference::BatchNormTraining, reference::batch_norm_forward_training,
//          reference::batch_norm_forward_inference, reference::BatchNormGrads,
//          reference::batch_norm_backward_training, reference::batch_norm_backward_inference
#pragma once

#include <cmath>
#include <cstdint>

#include "ops/backend.h"
#include "reference/numerics.h"

namespace r50::reference {

template <typename T>
struct BatchNormTraining {
  HostTensor<T> y, saved_mean, saved_invstd, running_mean, running_var;
};

// Per channel c over its count = N·H·W values: mean = Σx / count, var = Σ(x - mean)² / count,
// y = gamma·(x - mean)/sqrt(var + eps) + beta; running_mean and running_var move towards mean and
// the unbiased var·count/(count - 1) by `momentum`.
template <typename T>
BatchNormTraining<T> batch_norm_forward_training(const HostTensor<T>& x, const HostTensor<T>& gamma,
                                                 const HostTensor<T>& beta,
                                                 const HostTensor<T>& running_mean,
                                                 const HostTensor<T>& running_var,
                                                 const BatchNormParams& params) {
  const std::int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const T count = static_cast<T>(N * H * W);
  const T momentum = params.momentum, eps = params.eps;
  BatchNormTraining<T> out{HostTensor<T>(x.shape()), HostTensor<T>({C}), HostTensor<T>({C}),
                           HostTensor<T>({C}), HostTensor<T>({C})};
  for (std::int64_t c = 0; c < C; ++c) {
    T sum = 0;
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t v = 0; v < W; ++v) sum += x.at(n, c, h, v);
    const T mean = sum / count;
    T squares = 0;
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t v = 0; v < W; ++v)
          squares += (x.at(n, c, h, v) - mean) * (x.at(n, c, h, v) - mean);
    const T var = squares / count;
    const T invstd = 1 / std::sqrt(var + eps);
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t v = 0; v < W; ++v)
          out.y.at(n, c, h, v) = gamma[c] * (x.at(n, c, h, v) - mean) * invstd + beta[c];
    out.saved_mean[c] = mean;
    out.saved_invstd[c] = invstd;
    out.running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean;
    out.running_var[c] = (1 - momentum) * running_var[c] + momentum * var * count / (count - 1);
  }
  return out;
}

// y = gamma·(x - running_mean)/sqrt(running_var + eps) + beta.
template <typename T>
HostTensor<T> batch_norm_forward_inference(const HostTensor<T>& x, const HostTensor<T>& gamma,
                                           const HostTensor<T>& beta,
                                           const HostTensor<T>& running_mean,
                                           const HostTensor<T>& running_var, T eps) {
  const std::int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  HostTensor<T> y(x.shape());
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t v = 0; v < W; ++v)
          y.at(n, c, h, v) =
              gamma[c] * (x.at(n, c, h, v) - running_mean[c]) / std::sqrt(running_var[c] + eps) +
              beta[c];
  return y;
}

template <typename T>
struct BatchNormGrads {
  HostTensor<T> dx, dgamma, dbeta;
};

// The gradients of Σ dy·y for the training forward, given its mean and invstd = 1/sqrt(var + eps).
// With xhat = (x - mean)·invstd: dbeta = Σ dy, dgamma = Σ dy·xhat, and since mean and var depend
// on x, dx = gamma·invstd·(dy - dbeta/count - xhat·dgamma/count).
template <typename T>
BatchNormGrads<T> batch_norm_backward_training(const HostTensor<T>& x, const HostTensor<T>& dy,
                                               const HostTensor<T>& gamma,
                                               const HostTensor<T>& mean,
                                               const HostTensor<T>& invstd) {
  const std::int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const T count = static_cast<T>(N * H * W);
  BatchNormGrads<T> grads{HostTensor<T>(x.shape()), HostTensor<T>({C}), HostTensor<T>({C})};
  for (std::int64_t c = 0; c < C; ++c) {
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t v = 0; v < W; ++v) {
          grads.dbeta[c] += dy.at(n, c, h, v);
          grads.dgamma[c] += dy.at(n, c, h, v) * (x.at(n, c, h, v) - mean[c]) * invstd[c];
        }
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t v = 0; v < W; ++v) {
          const T xhat = (x.at(n, c, h, v) - mean[c]) * invstd[c];
          grads.dx.at(n, c, h, v) =
              gamma[c] * invstd[c] *
              (dy.at(n, c, h, v) - grads.dbeta[c] / count - xhat * grads.dgamma[c] / count);
        }
  }
  return grads;
}

// The gradients of Σ dy·y for the inference forward, where the statistics are constants:
// dx = gamma·dy/sqrt(running_var + eps), dgamma = Σ dy·xhat, dbeta = Σ dy.
template <typename T>
BatchNormGrads<T> batch_norm_backward_inference(const HostTensor<T>& x, const HostTensor<T>& dy,
                                                const HostTensor<T>& gamma,
                                                const HostTensor<T>& running_mean,
                                                const HostTensor<T>& running_var, T eps) {
  const std::int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  BatchNormGrads<T> grads{HostTensor<T>(x.shape()), HostTensor<T>({C}), HostTensor<T>({C})};
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t v = 0; v < W; ++v) {
          const T invstd = 1 / std::sqrt(running_var[c] + eps);
          grads.dx.at(n, c, h, v) = gamma[c] * dy.at(n, c, h, v) * invstd;
          grads.dgamma[c] += dy.at(n, c, h, v) * (x.at(n, c, h, v) - running_mean[c]) * invstd;
          grads.dbeta[c] += dy.at(n, c, h, v);
        }
  return grads;
}

}  // namespace r50::reference
