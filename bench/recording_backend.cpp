#include "recording_backend.h"

#include <algorithm>
#include <cstring>

#include "ops/op_checks.h"

namespace r50 {

void* RecordingAllocator::allocate(std::size_t bytes, Stream /*stream*/) {
  const std::uintptr_t address = next_address_;
  next_address_ += std::max<std::size_t>(512, (bytes + 511) / 512 * 512);
  live_.emplace(address, Live{blocks_, bytes});
  events_.push_back({true, bytes, blocks_++});
  ++stats_.allocation_count;
  ++stats_.raw_allocation_count;
  stats_.allocated_bytes += bytes;
  stats_.reserved_bytes = stats_.allocated_bytes;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  stats_.peak_reserved_bytes = stats_.peak_allocated_bytes;
  return reinterpret_cast<void*>(address);
}

void RecordingAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  auto it = live_.find(reinterpret_cast<std::uintptr_t>(ptr));
  R50_CHECK(it != live_.end(), "recording allocator: deallocate of ", ptr,
            ", which it did not hand out or which was already freed");
  events_.push_back({false, it->second.bytes, it->second.block});
  stats_.allocated_bytes -= it->second.bytes;
  stats_.reserved_bytes = stats_.allocated_bytes;
  live_.erase(it);
}

void RecordingAllocator::reset_peak() {
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

void RecordingBackend::copy_from_host(const Tensor& dst, const void* /*host*/) {
  R50_CHECK(dst.device() == device(), "copy_from_host: dst is ", dst.str(), " but expected a tensor on ",
            device().str());
}

void RecordingBackend::copy_to_host(void* host, const Tensor& src) {
  R50_CHECK(src.device() == device(), "copy_to_host: src is ", src.str(), " but expected a tensor on ",
            device().str());
  std::memset(host, 0, src.nbytes());
}

void RecordingBackend::copy(const Tensor& dst, const Tensor& src) { check_copy(dst, src, device()); }
void RecordingBackend::fill(const Tensor& dst, float /*value*/) { check_fill(dst, device()); }

void RecordingBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& y,
                                      const Conv2dParams& params) {
  check_conv2d_forward(x, w, y, params, device());
}
void RecordingBackend::conv2d_backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx,
                                            const Conv2dParams& params, bool /*accumulate*/) {
  check_conv2d_backward_data(dy, w, dx, params, device());
}
void RecordingBackend::conv2d_backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                                              const Conv2dParams& params) {
  check_conv2d_backward_filter(x, dy, dw, params, device());
}

void RecordingBackend::linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
  check_linear_forward(x, w, b, y, device());
}
void RecordingBackend::linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy,
                                       const Tensor& dx, const Tensor& dw, const Tensor& db) {
  check_linear_backward(x, w, dy, dx, dw, db, device());
}

void RecordingBackend::batch_norm_forward_training(const Tensor& x, const Tensor& gamma,
                                                   const Tensor& beta, const Tensor& running_mean,
                                                   const Tensor& running_var, const Tensor& y,
                                                   const Tensor& saved_mean,
                                                   const Tensor& saved_invstd,
                                                   const BatchNormParams& /*params*/) {
  check_batch_norm_forward_training(x, gamma, beta, running_mean, running_var, y, saved_mean,
                                    saved_invstd, device());
}
void RecordingBackend::batch_norm_relu_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                                        const Tensor& running_mean, const Tensor& running_var,
                                                        const Tensor& residual, const Tensor& y,
                                                        const Tensor& saved_mean, const Tensor& saved_invstd,
                                                        const BatchNormParams& /*params*/) {
  check_batch_norm_relu_forward_training(x, gamma, beta, running_mean, running_var, residual, y, saved_mean,
                                         saved_invstd, device());
}
void RecordingBackend::batch_norm_relu_backward_training(const Tensor& x, const Tensor& y, const Tensor& dy,
                                                         const Tensor& gamma, const Tensor& beta,
                                                         const Tensor& saved_mean, const Tensor& saved_invstd,
                                                         const Tensor& dx, const Tensor& dresidual,
                                                         const Tensor& dgamma, const Tensor& dbeta) {
  check_batch_norm_relu_backward_training(x, y, dy, gamma, beta, saved_mean, saved_invstd, dx, dresidual, dgamma,
                                          dbeta, device());
}
void RecordingBackend::batch_norm_forward_inference(const Tensor& x, const Tensor& gamma,
                                                    const Tensor& beta, const Tensor& running_mean,
                                                    const Tensor& running_var, const Tensor& y,
                                                    float /*eps*/) {
  check_batch_norm_forward_inference(x, gamma, beta, running_mean, running_var, y, device());
}
void RecordingBackend::batch_norm_backward_training(const Tensor& x, const Tensor& dy,
                                                    const Tensor& gamma, const Tensor& saved_mean,
                                                    const Tensor& saved_invstd, const Tensor& dx,
                                                    const Tensor& dgamma, const Tensor& dbeta) {
  check_batch_norm_backward_training(x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta,
                                     device());
}
void RecordingBackend::batch_norm_backward_inference(const Tensor& x, const Tensor& dy,
                                                     const Tensor& gamma, const Tensor& running_mean,
                                                     const Tensor& running_var, float /*eps*/,
                                                     const Tensor& dx, const Tensor& dgamma,
                                                     const Tensor& dbeta) {
  check_batch_norm_backward_inference(x, dy, gamma, running_mean, running_var, dx, dgamma, dbeta,
                                      device());
}

void RecordingBackend::relu_forward(const Tensor& x, const Tensor& y) { check_relu_forward(x, y, device()); }
void RecordingBackend::relu_backward(const Tensor& y, const Tensor& dy, const Tensor& dx) {
  check_relu_backward(y, dy, dx, device());
}
void RecordingBackend::add(const Tensor& a, const Tensor& b, const Tensor& y) {
  check_add(a, b, y, device());
}

void RecordingBackend::max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& params) {
  check_max_pool2d_forward(x, y, params, device());
}
void RecordingBackend::max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& dy,
                                           const Tensor& dx, const Pool2dParams& params) {
  check_max_pool2d_backward(x, y, dy, dx, params, device());
}
void RecordingBackend::global_avg_pool_forward(const Tensor& x, const Tensor& y) {
  check_global_avg_pool_forward(x, y, device());
}
void RecordingBackend::global_avg_pool_backward(const Tensor& dy, const Tensor& dx) {
  check_global_avg_pool_backward(dy, dx, device());
}

void RecordingBackend::softmax_cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                                     const Tensor& probs, const Tensor& loss) {
  check_softmax_cross_entropy_forward(logits, labels, probs, loss, device());
}
void RecordingBackend::softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                                      const Tensor& dlogits, float /*loss_grad*/) {
  check_softmax_cross_entropy_backward(probs, labels, dlogits, device());
}

void RecordingBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                                const SgdParams& params, bool /*first_step*/) {
  check_sgd_step(param, grad, momentum_buffer, params, device());
}

void RecordingBackend::normalize_images(const Tensor& images, const Tensor& y,
                                        const std::array<float, 3>& /*mean*/,
                                        const std::array<float, 3>& std) {
  check_normalize_images(images, y, std, device());
}

}  // namespace r50
