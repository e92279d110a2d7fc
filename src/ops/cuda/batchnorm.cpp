// Batch norm on the GPU: kernels/batchnorm.cu over x [N, C, H·W], the activations and their
// gradients in x's storage and layout, the per-channel tensors F32.
#include "kernels.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {
namespace {

// A defined tensor's data, or null for an undefined one (an absent residual).
void* data_or_null(const Tensor& tensor) { return tensor.defined() ? tensor.data() : nullptr; }

struct Planes {
  int N, C;
  std::int64_t HW;
};

Planes planes(const Tensor& x) {
  R50_CHECK(x.dim(0) <= INT32_MAX && x.dim(1) <= INT32_MAX, "batch norm: x ", x.shape().str(),
            " has more images or channels than the kernels index");
  return {static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)), x.dim(2) * x.dim(3)};
}

}  // namespace

// Split reductions' partials, from the allocator; released at once, which is safe because the next
// user of the block is on the same stream, after this launch.
Buffer CudaBackend::batch_norm_scratch(const Tensor& x) {
  const Planes p = planes(x);
  const std::size_t bytes = kernels::batch_norm_scratch_bytes(order_of(x), p.N, p.C, p.HW);
  return bytes ? Buffer(*allocator_, bytes) : Buffer();
}

void CudaBackend::batch_norm_forward_training(const Tensor& x, const Tensor& gamma,
                                              const Tensor& beta, const Tensor& running_mean,
                                              const Tensor& running_var, const Tensor& y,
                                              const Tensor& saved_mean,
                                              const Tensor& saved_invstd,
                                              const BatchNormParams& params) {
  check_batch_norm_forward_training(x, gamma, beta, running_mean, running_var, y, saved_mean,
                                    saved_invstd, device());
  const Planes p = planes(x);
  const Buffer scratch = batch_norm_scratch(x);
  R50_CUDA_CHECK(kernels::batch_norm_forward_training(
      x.data(), gamma.data_as<float>(), beta.data_as<float>(), running_mean.data_as<float>(),
      running_var.data_as<float>(), y.data(), saved_mean.data_as<float>(), saved_invstd.data_as<float>(),
      storage_of(x), order_of(x), p.N, p.C, p.HW, params.momentum, params.eps, scratch.data(), stream_));
}

void CudaBackend::batch_norm_relu_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                                   const Tensor& running_mean, const Tensor& running_var,
                                                   const Tensor& residual, const Tensor& y,
                                                   const Tensor& saved_mean, const Tensor& saved_invstd,
                                                   const BatchNormParams& params) {
  check_batch_norm_relu_forward_training(x, gamma, beta, running_mean, running_var, residual, y, saved_mean,
                                         saved_invstd, device());
  const Planes p = planes(x);
  const Buffer scratch = batch_norm_scratch(x);
  R50_CUDA_CHECK(kernels::batch_norm_relu_forward_training(
      x.data(), gamma.data_as<float>(), beta.data_as<float>(), running_mean.data_as<float>(),
      running_var.data_as<float>(), data_or_null(residual), y.data(), saved_mean.data_as<float>(),
      saved_invstd.data_as<float>(), storage_of(x), order_of(x), p.N, p.C, p.HW, params.momentum, params.eps,
      scratch.data(), stream_));
}

void CudaBackend::batch_norm_forward_inference(const Tensor& x, const Tensor& gamma,
                                               const Tensor& beta, const Tensor& running_mean,
                                               const Tensor& running_var, const Tensor& y,
                                               float eps) {
  check_batch_norm_forward_inference(x, gamma, beta, running_mean, running_var, y, device());
  const Planes p = planes(x);
  R50_CUDA_CHECK(kernels::batch_norm_forward_inference(
      x.data(), gamma.data_as<float>(), beta.data_as<float>(), running_mean.data_as<float>(),
      running_var.data_as<float>(), y.data(), storage_of(x), order_of(x), p.N, p.C, p.HW, eps, stream_));
}

void CudaBackend::batch_norm_backward_training(const Tensor& x, const Tensor& dy,
                                               const Tensor& gamma, const Tensor& saved_mean,
                                               const Tensor& saved_invstd, const Tensor& dx,
                                               const Tensor& dgamma, const Tensor& dbeta) {
  check_batch_norm_backward_training(x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta,
                                     device());
  const Planes p = planes(x);
  const Buffer scratch = batch_norm_scratch(x);
  R50_CUDA_CHECK(kernels::batch_norm_backward_training(
      x.data(), dy.data(), gamma.data_as<float>(), saved_mean.data_as<float>(), saved_invstd.data_as<float>(),
      dx.data(), dgamma.data_as<float>(), dbeta.data_as<float>(), storage_of(x), order_of(x), p.N, p.C, p.HW,
      scratch.data(), stream_));
}

void CudaBackend::batch_norm_relu_backward_training(const Tensor& x, const Tensor& y, const Tensor& dy,
                                                    const Tensor& gamma, const Tensor& beta,
                                                    const Tensor& saved_mean, const Tensor& saved_invstd,
                                                    const Tensor& dx, const Tensor& dresidual,
                                                    const Tensor& dgamma, const Tensor& dbeta) {
  check_batch_norm_relu_backward_training(x, y, dy, gamma, beta, saved_mean, saved_invstd, dx, dresidual,
                                          dgamma, dbeta, device());
  const Planes p = planes(x);
  const Buffer scratch = batch_norm_scratch(x);
  R50_CUDA_CHECK(kernels::batch_norm_relu_backward_training(
      x.data(), y.data(), dy.data(), gamma.data_as<float>(), beta.data_as<float>(), saved_mean.data_as<float>(),
      saved_invstd.data_as<float>(), dx.data(), data_or_null(dresidual), dgamma.data_as<float>(),
      dbeta.data_as<float>(), storage_of(x), order_of(x), p.N, p.C, p.HW, scratch.data(), stream_));
}

void CudaBackend::batch_norm_backward_inference(const Tensor& x, const Tensor& dy,
                                                const Tensor& gamma, const Tensor& running_mean,
                                                const Tensor& running_var, float eps,
                                                const Tensor& dx, const Tensor& dgamma,
                                                const Tensor& dbeta) {
  check_batch_norm_backward_inference(x, dy, gamma, running_mean, running_var, dx, dgamma, dbeta,
                                      device());
  const Planes p = planes(x);
  const Buffer scratch = batch_norm_scratch(x);
  R50_CUDA_CHECK(kernels::batch_norm_backward_inference(
      x.data(), dy.data(), gamma.data_as<float>(), running_mean.data_as<float>(), running_var.data_as<float>(),
      eps, dx.data(), dgamma.data_as<float>(), dbeta.data_as<float>(), storage_of(x), order_of(x), p.N, p.C,
      p.HW, scratch.data(), stream_));
}

}  // namespace r50
