// defines: CudaBackend
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "kernels.h"
#include "memory/buffer.h"
#include "ops/backend.h"
#include "ops/cuda/convolutions.h"
#include "ops/cuda/gpu_clocks.h"

namespace r50 {

// How the kernels see a floating dtype's or tensor's elements (kernels::Storage); throws for
// other dtypes.
kernels::Storage storage_of(DType dtype);
kernels::Storage storage_of(const Tensor& tensor);
// How the kernels see a 4-D tensor's memory order (kernels::Order).
inline kernels::Order order_of(const Tensor& tensor) {
  return tensor.layout() == Layout::ChannelsLast ? kernels::Order::Nhwc : kernels::Order::Nchw;
}

// The Backend on one GPU. Every op checks its arguments on the host (op_checks.h), then enqueues
// on the backend's own stream and returns; only copy_to_host and synchronize wait. Convolutions
// go to cuDNN (cudnn_conv.cpp, or cudnn_graph.cpp with CudnnApi::Graph), the fully connected
// layer to cuBLAS (linear.cpp), the rest to the handwritten kernels of kernels/. The method
// definitions live one file per op family, as the CPU backend's do; this file's own in
// cuda_backend.cpp.
//
// Device memory comes from a CachingAllocator over cudaMalloc. Everything is allocated for the
// default Stream{}, which on this backend stands for its one compute stream: every op runs there,
// in order, so a block freed by one op is safe to hand to the next.
class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const CudaBackendOptions& options);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda"; }
  Device device() const override { return Device::cuda(options_.gpu); }
  DeviceInfo device_info() const override { return info_; }
  Allocator& allocator() override { return *allocator_; }
  void synchronize() override;
  std::unique_ptr<Timer> make_timer(int marks) override;  // CUDA events on the compute stream
  // A CUDA graph of the work, captured on the compute stream in thread-local mode (other threads,
  // the loader's and NVML's, may go on calling CUDA meanwhile), its memory held by the caching
  // allocator's capture scope (cuda_graph.cpp). Under capture, synchronize() and the copies to,
  // from and through the host refuse at once, naming themselves.
  bool can_capture() const override { return true; }
  std::unique_ptr<CapturedWork> capture(const std::function<void()>& work) override;

  CudnnApi cudnn_api() const { return options_.cudnn_api; }
  std::vector<ConvAlgorithmChoice> convolution_choices() const { return convolutions_->choices(); }
  // The GPU's clocks and power draw now, from NVML where it answers: read at the end of a
  // measurement, they say whether the card held its clocks under load.
  GpuClocks clocks() const { return read_gpu_clocks(pci_bus_id_); }

  void copy_from_host(const Tensor& dst, const void* host) override;
  void copy_to_host(void* host, const Tensor& src) override;
  void copy(const Tensor& dst, const Tensor& src) override;
  void fill(const Tensor& dst, float value) override;
  void cast(const Tensor& src, const Tensor& dst, float scale) override;
  void find_non_finite(const std::vector<Tensor>& tensors, const Tensor& found) override;
  UploadTicket upload(const Tensor& dst, const void* host) override;
  void wait_for_upload(const UploadTicket& ticket) override;
  void finish_upload(UploadTicket& ticket) override;

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
  void batch_norm_relu_backward_training(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                                         const Tensor& beta, const Tensor& saved_mean,
                                         const Tensor& saved_invstd, const Tensor& dx, const Tensor& dresidual,
                                         const Tensor& dgamma, const Tensor& dbeta) override;
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
  void softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                      const Tensor& dlogits, const Tensor& loss_grad) override;

  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                const SgdParams& params, bool first_step) override;
  void sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params) override;
  void sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params,
                    const DeviceLossScale& loss_scale) override;
  void update_loss_scale(const DeviceLossScale& loss_scale, const LossScaleParams& params) override;

  void normalize_images(const Tensor& images, const Tensor& y, const std::array<float, 3>& mean,
                        const std::array<float, 3>& std) override;

 private:
  // A device vector of `count` ones of `dtype` (F32, F16 or BF16), for the bias broadcast and the
  // bias gradient as GEMMs, which take both factors in one dtype; kept and grown per dtype.
  const void* ones(std::int64_t count, DType dtype);
  // Scratch for batch norm's split reductions over x (kernels::batch_norm_scratch_bytes); may be empty.
  Buffer batch_norm_scratch(const Tensor& x);
  // Throws, naming `what`, while a capture is under way: it would wait for the device.
  void refuse_while_capturing(const char* what) const;
  // Ends a capture that failed part-way, dropping what it recorded; throws nothing.
  void abandon_capture();
  // Both sgd_step_all: checks every entry, then enqueues the update.
  void launch_sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params,
                           const kernels::SgdUpdate& update);

  CudaBackendOptions options_;
  DeviceInfo info_;
  std::string pci_bus_id_;
  // Declared first so that it is destroyed last: everything below returns memory to it.
  std::unique_ptr<Allocator> allocator_;
  cudaStream_t stream_ = nullptr;
  cudaStream_t copy_stream_ = nullptr;  // uploads of input batches, beside the compute
  cublasHandle_t cublas_ = nullptr;
  Buffer cublas_workspace_;
  struct Ones {
    Buffer buffer;
    std::int64_t count = 0;
  };
  std::array<Ones, 3> ones_;  // indexed by kernels::Storage
  std::vector<kernels::SgdTensor> sgd_tensors_;  // sgd_step_all's table, reused from step to step
  std::unique_ptr<Convolutions> convolutions_;
  bool capturing_ = false;
};

}  // namespace r50
