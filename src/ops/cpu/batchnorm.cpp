// Batch norm over x [N, C, H, W], one channel per OpenMP iteration: a channel's N planes of H·W
// contiguous values are reduced and then rewritten, so each thread streams its own memory.
// Reductions accumulate in double (two passes for the variance: mean first, then the squared
// deviations), which keeps the statistics exact to fp32 whatever N·H·W is.
#include <cmath>
#include <cstdint>

#include "ops/cpu/cpu_backend.h"
#include "ops/cpu/f32_staging.h"

namespace r50 {
namespace {

struct Planes {
  std::int64_t N, C, HW;
  std::int64_t count() const { return N * HW; }  // values per channel
  std::int64_t offset(std::int64_t n, std::int64_t c) const { return (n * C + c) * HW; }
};

Planes planes(const Tensor& x) { return {x.dim(0), x.dim(1), x.dim(2) * x.dim(3)}; }

// y = (x - mean)·scale + shift over one channel's planes.
void normalize_channel(const Planes& p, std::int64_t c, const float* x, float mean, float scale,
                       float shift, float* y) {
  for (std::int64_t n = 0; n < p.N; ++n) {
    const float* in = x + p.offset(n, c);
    float* out = y + p.offset(n, c);
    for (std::int64_t i = 0; i < p.HW; ++i) out[i] = (in[i] - mean) * scale + shift;
  }
}

}  // namespace

void CpuBackend::batch_norm_forward_training(const Tensor& x, const Tensor& gamma,
                                             const Tensor& beta, const Tensor& running_mean,
                                             const Tensor& running_var, const Tensor& y,
                                             const Tensor& saved_mean, const Tensor& saved_invstd,
                                             const BatchNormParams& params) {
  check_batch_norm_forward_training(x, gamma, beta, running_mean, running_var, y, saved_mean,
                                    saved_invstd, device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    batch_norm_forward_training(f32.input(x), gamma, beta, running_mean, running_var, f32.output(y), saved_mean,
                                saved_invstd, params);
    f32.finish();
    return;
  }
  const Planes p = planes(x);
  const double count = static_cast<double>(p.count());
  const double momentum = params.momentum;
  const float* x_data = x.data_as<float>();
  float* y_data = y.data_as<float>();
  const float* gamma_data = gamma.data_as<float>();
  const float* beta_data = beta.data_as<float>();
  float* running_mean_data = running_mean.data_as<float>();
  float* running_var_data = running_var.data_as<float>();
  float* saved_mean_data = saved_mean.data_as<float>();
  float* saved_invstd_data = saved_invstd.data_as<float>();
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (std::int64_t c = 0; c < p.C; ++c) {
    double sum = 0.0;
    for (std::int64_t n = 0; n < p.N; ++n) {
      const float* in = x_data + p.offset(n, c);
#pragma omp simd reduction(+ : sum)
      for (std::int64_t i = 0; i < p.HW; ++i) sum += in[i];
    }
    const double mean = sum / count;
    double squares = 0.0;
    for (std::int64_t n = 0; n < p.N; ++n) {
      const float* in = x_data + p.offset(n, c);
#pragma omp simd reduction(+ : squares)
      for (std::int64_t i = 0; i < p.HW; ++i) {
        const double deviation = in[i] - mean;
        squares += deviation * deviation;
      }
    }
    const double var = squares / count;
    const double invstd = 1.0 / std::sqrt(var + params.eps);
    saved_mean_data[c] = static_cast<float>(mean);
    saved_invstd_data[c] = static_cast<float>(invstd);
    running_mean_data[c] =
        static_cast<float>((1.0 - momentum) * running_mean_data[c] + momentum * mean);
    running_var_data[c] = static_cast<float>((1.0 - momentum) * running_var_data[c] +
                                             momentum * var * count / (count - 1.0));
    normalize_channel(p, c, x_data, static_cast<float>(mean),
                      static_cast<float>(gamma_data[c] * invstd), beta_data[c], y_data);
  }
}

// Backend's composition (batch norm, then add, then ReLU) on F32 copies of half tensors, so that
// y is rounded once, as the CUDA kernels round it; on half tensors the composition would also round
// the normalised values before the residual is added.
void CpuBackend::batch_norm_relu_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                                  const Tensor& running_mean, const Tensor& running_var,
                                                  const Tensor& residual, const Tensor& y,
                                                  const Tensor& saved_mean, const Tensor& saved_invstd,
                                                  const BatchNormParams& params) {
  check_batch_norm_relu_forward_training(x, gamma, beta, running_mean, running_var, residual, y, saved_mean,
                                         saved_invstd, device());
  F32Staging f32(allocator_, F32Staging::Order::Kept);
  Backend::batch_norm_relu_forward_training(f32.input(x), gamma, beta, running_mean, running_var,
                                            f32.input(residual), f32.output(y), saved_mean, saved_invstd, params);
  f32.finish();
}

void CpuBackend::batch_norm_forward_inference(const Tensor& x, const Tensor& gamma,
                                              const Tensor& beta, const Tensor& running_mean,
                                              const Tensor& running_var, const Tensor& y,
                                              float eps) {
  check_batch_norm_forward_inference(x, gamma, beta, running_mean, running_var, y, device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    batch_norm_forward_inference(f32.input(x), gamma, beta, running_mean, running_var, f32.output(y), eps);
    f32.finish();
    return;
  }
  const Planes p = planes(x);
  const float* x_data = x.data_as<float>();
  float* y_data = y.data_as<float>();
  const float* gamma_data = gamma.data_as<float>();
  const float* beta_data = beta.data_as<float>();
  const float* mean_data = running_mean.data_as<float>();
  const float* var_data = running_var.data_as<float>();
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (std::int64_t c = 0; c < p.C; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(var_data[c]) + eps);
    normalize_channel(p, c, x_data, mean_data[c], static_cast<float>(gamma_data[c] * invstd),
                      beta_data[c], y_data);
  }
}

void CpuBackend::batch_norm_backward_training(const Tensor& x, const Tensor& dy,
                                              const Tensor& gamma, const Tensor& saved_mean,
                                              const Tensor& saved_invstd, const Tensor& dx,
                                              const Tensor& dgamma, const Tensor& dbeta) {
  check_batch_norm_backward_training(x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta,
                                     device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    batch_norm_backward_training(f32.input(x), f32.input(dy), gamma, saved_mean, saved_invstd, f32.output(dx),
                                 dgamma, dbeta);
    f32.finish();
    return;
  }
  const Planes p = planes(x);
  const double count = static_cast<double>(p.count());
  const float* x_data = x.data_as<float>();
  const float* dy_data = dy.data_as<float>();
  const float* gamma_data = gamma.data_as<float>();
  const float* mean_data = saved_mean.data_as<float>();
  const float* invstd_data = saved_invstd.data_as<float>();
  float* dx_data = dx.data_as<float>();
  float* dgamma_data = dgamma.data_as<float>();
  float* dbeta_data = dbeta.data_as<float>();
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (std::int64_t c = 0; c < p.C; ++c) {
    const double mean = mean_data[c];
    const double invstd = invstd_data[c];
    double sum_dy = 0.0, sum_dy_centered = 0.0;  // Σ dy and Σ dy·(x - mean)
    for (std::int64_t n = 0; n < p.N; ++n) {
      const float* in = x_data + p.offset(n, c);
      const float* grad = dy_data + p.offset(n, c);
#pragma omp simd reduction(+ : sum_dy, sum_dy_centered)
      for (std::int64_t i = 0; i < p.HW; ++i) {
        sum_dy += grad[i];
        sum_dy_centered += grad[i] * (in[i] - mean);
      }
    }
    const double dgamma_c = sum_dy_centered * invstd;
    dbeta_data[c] = static_cast<float>(sum_dy);
    dgamma_data[c] = static_cast<float>(dgamma_c);
    if (count == 0.0) continue;
    // dx = gamma·invstd·(dy - mean(dy) - xhat·mean(dy·xhat)), with xhat = (x - mean)·invstd.
    const float scale = static_cast<float>(gamma_data[c] * invstd);
    const float mean_dy = static_cast<float>(sum_dy / count);
    const float slope = static_cast<float>(invstd * invstd * sum_dy_centered / count);
    const float mean_f = static_cast<float>(mean);
    for (std::int64_t n = 0; n < p.N; ++n) {
      const float* in = x_data + p.offset(n, c);
      const float* grad = dy_data + p.offset(n, c);
      float* out = dx_data + p.offset(n, c);
      for (std::int64_t i = 0; i < p.HW; ++i) {
        out[i] = scale * (grad[i] - mean_dy - (in[i] - mean_f) * slope);
      }
    }
  }
}

void CpuBackend::batch_norm_backward_inference(const Tensor& x, const Tensor& dy,
                                               const Tensor& gamma, const Tensor& running_mean,
                                               const Tensor& running_var, float eps,
                                               const Tensor& dx, const Tensor& dgamma,
                                               const Tensor& dbeta) {
  check_batch_norm_backward_inference(x, dy, gamma, running_mean, running_var, dx, dgamma, dbeta,
                                      device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    batch_norm_backward_inference(f32.input(x), f32.input(dy), gamma, running_mean, running_var, eps,
                                  f32.output(dx), dgamma, dbeta);
    f32.finish();
    return;
  }
  const Planes p = planes(x);
  const float* x_data = x.data_as<float>();
  const float* dy_data = dy.data_as<float>();
  const float* gamma_data = gamma.data_as<float>();
  const float* mean_data = running_mean.data_as<float>();
  const float* var_data = running_var.data_as<float>();
  float* dx_data = dx.data_as<float>();
  float* dgamma_data = dgamma.data_as<float>();
  float* dbeta_data = dbeta.data_as<float>();
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (std::int64_t c = 0; c < p.C; ++c) {
    const double mean = mean_data[c];
    const double invstd = 1.0 / std::sqrt(static_cast<double>(var_data[c]) + eps);
    const float scale = static_cast<float>(gamma_data[c] * invstd);
    double sum_dy = 0.0, sum_dy_centered = 0.0;
    for (std::int64_t n = 0; n < p.N; ++n) {
      const float* in = x_data + p.offset(n, c);
      const float* grad = dy_data + p.offset(n, c);
      float* out = dx_data + p.offset(n, c);
#pragma omp simd reduction(+ : sum_dy, sum_dy_centered)
      for (std::int64_t i = 0; i < p.HW; ++i) {
        sum_dy += grad[i];
        sum_dy_centered += grad[i] * (in[i] - mean);
        out[i] = grad[i] * scale;
      }
    }
    dbeta_data[c] = static_cast<float>(sum_dy);
    dgamma_data[c] = static_cast<float>(sum_dy_centered * invstd);
  }
}

}  // namespace r50
