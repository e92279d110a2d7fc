// defines: Values, FourHalves, load, store, Welford, combine, shuffle_down, write_statistics,
//          NormalizeCoefficients, TrainingNormalize, InferenceNormalize, normalized, NoEpilogue,
//          ReluEpilogue, SavedInvstd, RunningInvstd, GradientSums, PlainGradient,
//          ReluGradientFromOutput, TrainingGradientCoefficients, groups_of_four,
//          batch_norm_nhwc_scratch_bytes, batch_norm_nhwc_forward_training,
//          batch_norm_nhwc_relu_forward_training, batch_norm_nhwc_forward_inference,
//          batch_norm_nhwc_backward_training, batch_norm_nhwc_relu_backward_training,
//          batch_norm_nhwc_backward_inference
//
// What the batch-norm kernels of both layouts share: batchnorm.cu (NCHW, and the public launchers
// of kernels.h) and batchnorm_nhwc.cu (NHWC) include it, and nothing else does. The device pieces
// are the loads and stores of groups of W elements, the statistics' (count, mean, M2) triples and
// their combination, the coefficient makers, the forward epilogues and the gradients at batch
// norm's output; below them, the NHWC entry points that batchnorm.cu's launchers call.
#pragma once

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
// Internal linkage: each of the two .cu files compiles its own copy of these pieces (the kernels
// are built without separable compilation, so no device code crosses files anyway).
namespace {

// W consecutive elements (NCHW: of one plane; NHWC: W channels of one row), as float whatever
// their storage; load and store take the index of the group of W.
template <int W>
struct Values {
  float v[W];
};

// Four F16 or BF16 elements as one 8-byte access.
template <typename T>
struct alignas(4 * sizeof(T)) FourHalves {
  T v[4];
};
static_assert(sizeof(FourHalves<__half>) == 8 && sizeof(FourHalves<__nv_bfloat16>) == 8);

template <int W, typename T>
__device__ Values<W> load(const T* p, long long group) {
  if constexpr (W == 4 && std::is_same_v<T, float>) {
    const float4 t = reinterpret_cast<const float4*>(p)[group];
    return {{t.x, t.y, t.z, t.w}};
  } else if constexpr (W == 4) {
    const FourHalves<T> t = reinterpret_cast<const FourHalves<T>*>(p)[group];
    return {{to_float(t.v[0]), to_float(t.v[1]), to_float(t.v[2]), to_float(t.v[3])}};
  } else {
    return {{to_float(p[group])}};
  }
}

template <int W, typename T>
__device__ void store(T* p, long long group, const Values<W>& values) {
  if constexpr (W == 4 && std::is_same_v<T, float>) {
    reinterpret_cast<float4*>(p)[group] = make_float4(values.v[0], values.v[1], values.v[2], values.v[3]);
  } else if constexpr (W == 4) {
    FourHalves<T> t;
    for (int k = 0; k < 4; ++k) t.v[k] = from_float<T>(values.v[k]);
    reinterpret_cast<FourHalves<T>*>(p)[group] = t;
  } else {
    p[group] = from_float<T>(values.v[0]);
  }
}

struct Welford {
  double count, mean, m2;  // m2 = Σ (x - mean)²
};

// Chan et al.'s parallel combination of two partial (count, mean, M2).
__device__ Welford combine(const Welford& a, const Welford& b) {
  if (b.count == 0.0) return a;
  if (a.count == 0.0) return b;
  const double count = a.count + b.count;
  const double delta = b.mean - a.mean;
  return {count, a.mean + delta * (b.count / count),
          a.m2 + b.m2 + delta * delta * (a.count * b.count / count)};
}

__device__ Welford shuffle_down(const Welford& w, int offset) {
  return {__shfl_down_sync(0xffffffffu, w.count, offset),
          __shfl_down_sync(0xffffffffu, w.mean, offset),
          __shfl_down_sync(0xffffffffu, w.m2, offset)};
}


// The channel's saved and running statistics from its (count, mean, M2), exactly as the CPU
// backend computes them from its double mean and variance.
__device__ void write_statistics(const Welford& total, double values, int ch, float* running_mean,
                                 float* running_var, float* saved_mean, float* saved_invstd, float momentum,
                                 float eps) {
  const double var = total.m2 / values;
  const double invstd = 1.0 / sqrt(var + eps);
  const double keep = 1.0 - static_cast<double>(momentum);
  saved_mean[ch] = static_cast<float>(total.mean);
  saved_invstd[ch] = static_cast<float>(invstd);
  running_mean[ch] = static_cast<float>(keep * running_mean[ch] + momentum * total.mean);
  const double unbiased_var = var * values / (values - 1.0);
  running_var[ch] = static_cast<float>(keep * running_var[ch] + momentum * unbiased_var);
}

// y = (x - mean)·scale + shift per channel, for training (saved statistics) and inference
// (running statistics); only where mean and scale come from differs.
struct NormalizeCoefficients {
  float mean, scale, shift;
};

struct TrainingNormalize {
  const float *saved_mean, *saved_invstd, *gamma, *beta;
  __device__ NormalizeCoefficients operator()(int ch) const {
    return {saved_mean[ch], static_cast<float>(gamma[ch] * static_cast<double>(saved_invstd[ch])),
            beta[ch]};
  }
};

struct InferenceNormalize {
  const float *running_mean, *running_var, *gamma, *beta;
  float eps;
  __device__ NormalizeCoefficients operator()(int ch) const {
    const double invstd = 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
    return {running_mean[ch], static_cast<float>(gamma[ch] * invstd), beta[ch]};
  }
};

// The normalised value, with one rounding for the multiply-add: the fused backward recomputes it
// from x to find where the ReLU passed, and must get the forward's value bit for bit.
__device__ float normalized(float x, const NormalizeCoefficients& k) {
  return __fmaf_rn(x - k.mean, k.scale, k.shift);
}

// What follows the normalisation in the same pass: nothing, or the residual sum and the ReLU
// (v < 0 ? 0 : v keeps a NaN, as relu_forward does).
struct NoEpilogue {
  template <int W>
  __device__ void operator()(Values<W>&, long long) const {}
};

template <typename T>
struct ReluEpilogue {
  const T* residual;  // null: none
  template <int W>
  __device__ void operator()(Values<W>& y, long long group) const {
    if (residual) {
      const Values<W> r = load<W>(residual, group);
      for (int k = 0; k < W; ++k) y.v[k] += r.v[k];
    }
    for (float& v : y.v) v = v < 0.0f ? 0.0f : v;
  }
};

// The channel's invstd: saved by the training forward, or from the running variance.
struct SavedInvstd {
  const float* saved_invstd;
  __device__ double operator()(int ch) const { return saved_invstd[ch]; }
};

struct RunningInvstd {
  const float* running_var;
  float eps;
  __device__ double operator()(int ch) const {
    return 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
  }
};

struct GradientSums {
  double dy, dy_centered;  // Σ dy, Σ dy·(x - mean)
};

// The gradient that reaches batch norm at a group of W values (whose inputs are x): dy itself, or
// dy where the ReLU after it passed. bind(ch) readies a thread's copy for channel ch.
template <typename T>
struct PlainGradient {
  const T* dy;
  __device__ void bind(int) {}
  template <int W>
  __device__ Values<W> operator()(long long group, const Values<W>&) const {
    return load<W>(dy, group);
  }
};

// Where the ReLU passed, read from its output y (needed where a residual joined before it).
template <typename T>
struct ReluGradientFromOutput {
  const T *dy, *y;
  __device__ void bind(int) {}
  template <int W>
  __device__ Values<W> operator()(long long group, const Values<W>&) const {
    Values<W> g = load<W>(dy, group);
    const Values<W> out = load<W>(y, group);
    for (int k = 0; k < W; ++k) g.v[k] = out.v[k] > 0.0f ? g.v[k] : 0.0f;
    return g;
  }
};

// dx = scale·(dy - mean_dy - (x - mean)·slope) with scale = gamma·invstd, mean_dy = Σ dy / count
// and slope = invstd²·Σ dy·(x - mean) / count = invstd·dgamma / count, the CPU backend's formula.
struct TrainingGradientCoefficients {
  float mean, scale, mean_dy, slope;
};

// Groups of 4 elements of T where every plane (NCHW: hw values; NHWC: a row's c channels) starts
// and ends on a boundary of 4·sizeof(T) bytes (16 for float, 8 for half storage): its length a
// multiple of 4 and each tensor (null: absent) aligned to that size, as the allocator's blocks are
// and a view need not be.
template <typename T>
bool groups_of_four(long long hw, std::initializer_list<const void*> tensors) {
  if (hw % 4 != 0) return false;
  for (const void* tensor : tensors) {
    if (reinterpret_cast<std::uintptr_t>(tensor) % (4 * sizeof(T)) != 0) return false;
  }
  return true;
}

}  // namespace

// The NHWC launches (batchnorm_nhwc.cu), one per public launcher in kernels.h, with its arguments
// less `order`. batchnorm.cu's launchers call them for Order::Nhwc once they have checked that
// there is something to do (n, c and hw all positive).
std::size_t batch_norm_nhwc_scratch_bytes(int n, int c, std::int64_t hw);
cudaError_t batch_norm_nhwc_forward_training(const void* x, const float* gamma, const float* beta,
                                             float* running_mean, float* running_var, void* y, float* saved_mean,
                                             float* saved_invstd, Storage storage, int n, int c, std::int64_t hw,
                                             float momentum, float eps, void* scratch, cudaStream_t stream);
cudaError_t batch_norm_nhwc_relu_forward_training(const void* x, const float* gamma, const float* beta,
                                                  float* running_mean, float* running_var, const void* residual,
                                                  void* y, float* saved_mean, float* saved_invstd,
                                                  Storage storage, int n, int c, std::int64_t hw, float momentum,
                                                  float eps, void* scratch, cudaStream_t stream);
cudaError_t batch_norm_nhwc_forward_inference(const void* x, const float* gamma, const float* beta,
                                              const float* running_mean, const float* running_var, void* y,
                                              Storage storage, int n, int c, std::int64_t hw, float eps,
                                              cudaStream_t stream);
cudaError_t batch_norm_nhwc_backward_training(const void* x, const void* dy, const float* gamma,
                                              const float* saved_mean, const float* saved_invstd, void* dx,
                                              float* dgamma, float* dbeta, Storage storage, int n, int c,
                                              std::int64_t hw, void* scratch, cudaStream_t stream);
cudaError_t batch_norm_nhwc_relu_backward_training(const void* x, const void* y, const void* dy,
                                                   const float* gamma, const float* beta, const float* saved_mean,
                                                   const float* saved_invstd, void* dx, void* dresidual,
                                                   float* dgamma, float* dbeta, Storage storage, int n, int c,
                                                   std::int64_t hw, void* scratch, cudaStream_t stream);
cudaError_t batch_norm_nhwc_backward_inference(const void* x, const void* dy, const float* gamma,
                                               const float* running_mean, const float* running_var, float eps,
                                               void* dx, float* dgamma, float* dbeta, Storage storage, int n,
                                               int c, std::int64_t hw, void* scratch, cudaStream_t stream);

}  // namespace r50::kernels
