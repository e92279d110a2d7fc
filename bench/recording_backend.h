// defines: AllocationEvent, RecordingAllocator, RecordingBackend
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "ops/backend.h"

namespace r50 {

// One call the model made on its allocator. `block` numbers allocations in the order they were
// made; a deallocation names the allocation it returns.
struct AllocationEvent {
  bool allocate;
  std::size_t bytes;  // as asked (the block's size, for a deallocation)
  std::size_t block;
};

// An allocator that hands out addresses nothing may dereference, and logs every call in order:
// the allocation trace of a program, at no cost in memory.
class RecordingAllocator final : public Allocator {
 public:
  void* allocate(std::size_t bytes, Stream stream = {}) override;
  void deallocate(void* ptr) override;
  void record_stream(void* /*ptr*/, Stream /*stream*/) override {}
  AllocatorStats stats() const override { return stats_; }
  void reset_peak() override;
  void empty_cache() override {}

  const std::vector<AllocationEvent>& events() const { return events_; }

 private:
  struct Live {
    std::size_t block, bytes;
  };
  std::vector<AllocationEvent> events_;
  std::unordered_map<std::uintptr_t, Live> live_;
  std::uintptr_t next_address_ = std::uintptr_t(1) << 44;  // far from any real mapping
  std::size_t blocks_ = 0;
  AllocatorStats stats_;
};

// A backend that computes nothing: every op checks its arguments as the real backends do
// (op_checks.h) and returns, so a training step runs in microseconds and leaves the allocation
// trace it would leave on a GPU (without the CUDA backend's own scratch space: the cuDNN
// workspace and the softmax row losses). copy_to_host writes zeros. Tensors live on "cuda:0".
class RecordingBackend final : public Backend {
 public:
  std::string name() const override { return "recording"; }
  Device device() const override { return Device::cuda(0); }
  DeviceInfo device_info() const override { return {}; }
  RecordingAllocator& allocator() override { return allocator_; }
  void synchronize() override {}

  void copy_from_host(const Tensor& dst, const void* host) override;
  void copy_to_host(void* host, const Tensor& src) override;
  void copy(const Tensor& dst, const Tensor& src) override;
  void fill(const Tensor& dst, float value) override;
  UploadTicket upload(const Tensor&, const void*) override { return {}; }
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
  // The fused ops as the CUDA backend runs them: no scratch (the defaults compose other ops).
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
  using Backend::softmax_cross_entropy_backward;  // loss_grad on the device: Backend's, through the above

  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                const SgdParams& params, bool first_step) override;

  void normalize_images(const Tensor& images, const Tensor& y, const std::array<float, 3>& mean,
                        const std::array<float, 3>& std) override;

 private:
  RecordingAllocator allocator_;
};

}  // namespace r50
