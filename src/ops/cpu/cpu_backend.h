// defines: CpuBackend, kParallelElements
#pragma once

#include <cstdint>
#include <string>

#include "memory/host_allocator.h"
#include "ops/backend.h"
#include "ops/op_checks.h"

namespace r50 {

// Below this many elements, waking the other threads costs more than an elementwise loop saves.
constexpr std::int64_t kParallelElements = 1 << 15;

// The Backend on the host: im2col + SGEMM convolutions (gemm.h), plain OpenMP loops elsewhere.
// Every op runs to completion before it returns. The method definitions live one file per op
// family (conv.cpp, batchnorm.cpp, ...); this file's own methods in cpu_backend.cpp.
class CpuBackend final : public Backend {
 public:
  // `memory_limit_bytes` caps its allocator (0: none).
  CpuBackend(int threads, std::size_t memory_limit_bytes);

  std::string name() const override { return "cpu"; }
  Device device() const override { return Device::cpu(); }
  DeviceInfo device_info() const override;  // the processor's model name and the threads used
  Allocator& allocator() override { return allocator_; }
  void synchronize() override {}
  int threads() const { return threads_; }

  void copy_from_host(const Tensor& dst, const void* host) override;
  void copy_to_host(void* host, const Tensor& src) override;
  void copy(const Tensor& dst, const Tensor& src) override;
  void fill(const Tensor& dst, float value) override;
  UploadTicket upload(const Tensor& dst, const void* host) override;
  void wait_for_upload(const UploadTicket&) override {}
  void finish_upload(UploadTicket&) override {}

  void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& y,
                      const Conv2dParams& params) override;
  void conv2d_backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx,
                            const Conv2dParams& params, bool accumulate) override;
  void conv2d_backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                              const Conv2dParams& params) override;

  void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) override;
  void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx,
                       const Tensor& dw, const Tensor& db) override;

  void batch_norm_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                   const Tensor& running_mean, const Tensor& running_var,
                                   const Tensor& y, const Tensor& saved_mean,
                                   const Tensor& saved_invstd,
                                   const BatchNormParams& params) override;
  void batch_norm_relu_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                        const Tensor& running_mean, const Tensor& running_var,
                                        const Tensor& residual, const Tensor& y, const Tensor& saved_mean,
                                        const Tensor& saved_invstd, const BatchNormParams& params) override;
  void batch_norm_forward_inference(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                    const Tensor& running_mean, const Tensor& running_var,
                                    const Tensor& y, float eps) override;
  void batch_norm_backward_training(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                    const Tensor& saved_mean, const Tensor& saved_invstd,
                                    const Tensor& dx, const Tensor& dgamma,
                                    const Tensor& dbeta) override;
  void batch_norm_backward_inference(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                     const Tensor& running_mean, const Tensor& running_var,
                                     float eps, const Tensor& dx, const Tensor& dgamma,
                                     const Tensor& dbeta) override;

  void relu_forward(const Tensor& x, const Tensor& y) override;
  void relu_backward(const Tensor& y, const Tensor& dy, const Tensor& dx) override;

  void add(const Tensor& a, const Tensor& b, const Tensor& y) override;

  void max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& params) override;
  void max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& dx,
                           const Pool2dParams& params) override;
  void global_avg_pool_forward(const Tensor& x, const Tensor& y) override;
  void global_avg_pool_backward(const Tensor& dy, const Tensor& dx) override;

  void softmax_cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                     const Tensor& probs, const Tensor& loss) override;
  void softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                      const Tensor& dlogits, float loss_grad) override;
  using Backend::softmax_cross_entropy_backward;  // loss_grad on the device: Backend's, through the above

  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                const SgdParams& params, bool first_step) override;

  void normalize_images(const Tensor& images, const Tensor& y, const std::array<float, 3>& mean,
                        const std::array<float, 3>& std) override;

 private:
  HostAllocator allocator_;
  int threads_;
};

}  // namespace r50
