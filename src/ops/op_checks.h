// defines: is_floating, check_float_input, check_f32_input, check_copy, check_fill, check_cast,
//          check_find_non_finite, check_sgd_tensors, check_conv2d_forward,
//          check_conv2d_backward_data, check_conv2d_backward_filter, check_linear_forward,
//          check_linear_backward, check_batch_norm_forward_training,
//          check_batch_norm_relu_forward_training, check_batch_norm_relu_backward_training,
//          check_batch_norm_forward_inference, check_batch_norm_backward_training,
//          check_batch_norm_backward_inference, check_relu_forward, check_relu_backward, check_add,
//          check_max_pool2d_forward, check_max_pool2d_backward, check_global_avg_pool_forward,
//          check_global_avg_pool_backward, check_softmax_cross_entropy_forward,
//          check_softmax_cross_entropy_backward, check_loss_grad, check_sgd_step,
//          check_sgd_step_all_under_loss_scale, check_update_loss_scale, check_loss_scale_params,
//          check_normalize_images
//
// What every backend checks before an op runs, one function per op of Backend (backend.h), so
// that both backends refuse the same arguments with the same message: the op, the argument, what
// it is and what was expected. `device` is the backend's; every tensor must live there.
#pragma once

#include <array>

#include "ops/backend.h"

namespace r50 {

// F32, F16 or BF16: the dtypes an activation may have (backend.h, Dtypes).
bool is_floating(DType dtype);

// Throws unless `tensor` is an F32, F16 or BF16 (check_float_input) or F32 (check_f32_input)
// tensor of `rank` dimensions on `device`, in either layout. For the inputs whose shape, dtype and
// layout define every other shape, dtype and layout an op checks.
void check_float_input(const Tensor& tensor, const char* op, const char* argument, int rank,
                       Device device);
void check_f32_input(const Tensor& tensor, const char* op, const char* argument, int rank,
                     Device device);

void check_copy(const Tensor& dst, const Tensor& src, Device device);
void check_fill(const Tensor& dst, Device device);
void check_cast(const Tensor& src, const Tensor& dst, Device device);
void check_find_non_finite(const std::vector<Tensor>& tensors, const Tensor& found, Device device);

void check_conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& y,
                          const Conv2dParams& params, Device device);
void check_conv2d_backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx,
                                const Conv2dParams& params, Device device);
void check_conv2d_backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                                  const Conv2dParams& params, Device device);

void check_linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y,
                          Device device);
void check_linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx,
                           const Tensor& dw, const Tensor& db, Device device);

void check_batch_norm_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                       const Tensor& running_mean, const Tensor& running_var,
                                       const Tensor& y, const Tensor& saved_mean,
                                       const Tensor& saved_invstd, Device device);
void check_batch_norm_relu_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                            const Tensor& running_mean, const Tensor& running_var,
                                            const Tensor& residual, const Tensor& y,
                                            const Tensor& saved_mean, const Tensor& saved_invstd,
                                            Device device);
void check_batch_norm_relu_backward_training(const Tensor& x, const Tensor& y, const Tensor& dy,
                                             const Tensor& gamma, const Tensor& beta,
                                             const Tensor& saved_mean, const Tensor& saved_invstd,
                                             const Tensor& dx, const Tensor& dresidual,
                                             const Tensor& dgamma, const Tensor& dbeta, Device device);
void check_batch_norm_forward_inference(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                        const Tensor& running_mean, const Tensor& running_var,
                                        const Tensor& y, Device device);
void check_batch_norm_backward_training(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                        const Tensor& saved_mean, const Tensor& saved_invstd,
                                        const Tensor& dx, const Tensor& dgamma,
                                        const Tensor& dbeta, Device device);
void check_batch_norm_backward_inference(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                         const Tensor& running_mean, const Tensor& running_var,
                                         const Tensor& dx, const Tensor& dgamma,
                                         const Tensor& dbeta, Device device);

void check_relu_forward(const Tensor& x, const Tensor& y, Device device);
void check_relu_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Device device);
void check_add(const Tensor& a, const Tensor& b, const Tensor& y, Device device);

void check_max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& params,
                              Device device);
void check_max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& dy,
                               const Tensor& dx, const Pool2dParams& params, Device device);
void check_global_avg_pool_forward(const Tensor& x, const Tensor& y, Device device);
void check_global_avg_pool_backward(const Tensor& dy, const Tensor& dx, Device device);

// Shapes and dtypes only: where labels live on the host, the CPU backend also checks their values.
void check_softmax_cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                         const Tensor& probs, const Tensor& loss, Device device);
void check_softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                          const Tensor& dlogits, Device device);

// softmax_cross_entropy_backward's loss_grad read on the device: F32 [1].
void check_loss_grad(const Tensor& loss_grad, Device device);
void check_sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                    const SgdParams& params, Device device);
// check_sgd_step's checks on an entry of sgd_step_all, and its compute copy's.
void check_sgd_tensors(const SgdTensors& tensors, const SgdParams& params, Device device);
// sgd_step_all under a DeviceLossScale, beside check_sgd_tensors on each entry: the state F32
// [kLossScaleSlots] and found F32 [1], and no grad_scale of its own (the state's scale sets it).
void check_sgd_step_all_under_loss_scale(const SgdParams& params, const DeviceLossScale& loss_scale, Device device);
// update_loss_scale: the same state and flag, and parameters under which the scale can work.
void check_update_loss_scale(const DeviceLossScale& loss_scale, const LossScaleParams& params, Device device);
// Parameters under which the scale can work: a positive initial scale, growth above 1, backoff in
// (0, 1), and an interval from 1 to 2^24 (the state counts in F32).
void check_loss_scale_params(const LossScaleParams& params);

void check_normalize_images(const Tensor& images, const Tensor& y, const std::array<float, 3>& std,
                            Device device);

}  // namespace r50
