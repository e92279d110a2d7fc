#include "ops/op_checks.h"

#include <initializer_list>
#include <utility>

namespace r50 {
namespace {

// Shape helpers raise their complaints without an op name; re-raise them under the op's.
template <typename ShapeOf>
Shape shape_for(const char* op, ShapeOf&& shape_of) {
  try {
    return shape_of();
  } catch (const Error& error) {
    R50_THROW(op, ": ", error.message());
  }
}

Shape conv_output_shape(const char* op, const Tensor& x, const Tensor& w, const Conv2dParams& params) {
  return shape_for(op, [&] { return conv2d_output_shape(x.shape(), w.shape(), params); });
}

Shape pool_output_shape(const char* op, const Tensor& x, const Pool2dParams& params) {
  return shape_for(op, [&] { return max_pool2d_output_shape(x.shape(), params); });
}

using NamedTensors = std::initializer_list<std::pair<const char*, const Tensor*>>;

// Every tensor of `tensors` is of `dtype`, `shape` and `layout` on `device`.
void check_shapes(const char* op, DType dtype, const Shape& shape, NamedTensors tensors, Device device,
                  Layout layout = Layout::RowMajor) {
  for (const auto& [name, tensor] : tensors) check_tensor(*tensor, op, name, dtype, shape, device, layout);
}

void check_f32_shapes(const char* op, const Shape& shape, NamedTensors tensors, Device device) {
  check_shapes(op, DType::F32, shape, tensors, device);
}

void check_batch_norm_input(const char* op, const Tensor& x, Device device) {
  check_float_input(x, op, "x", 4, device);
}

// Batch norm's training forward and backward, under the name of the op that runs them.
void check_training_forward(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                            const Tensor& running_mean, const Tensor& running_var, const Tensor& y,
                            const Tensor& saved_mean, const Tensor& saved_invstd, Device device) {
  check_batch_norm_input(op, x, device);
  check_f32_shapes(op, {x.dim(1)},
                   {{"gamma", &gamma},
                    {"beta", &beta},
                    {"running_mean", &running_mean},
                    {"running_var", &running_var},
                    {"saved_mean", &saved_mean},
                    {"saved_invstd", &saved_invstd}},
                   device);
  check_tensor(y, op, "y", x.dtype(), x.shape(), device, x.layout());
  // As torch: the variance of a single value per channel is undefined, and its unbiased
  // estimate divides by count - 1.
  R50_CHECK(x.dim(0) * x.dim(2) * x.dim(3) > 1, op,
            ": batch statistics need more than one value per channel, but x is ", x.shape().str());
}

void check_training_backward(const char* op, const Tensor& x, const Tensor& dy, const Tensor& gamma,
                             const Tensor& saved_mean, const Tensor& saved_invstd, const Tensor& dx,
                             const Tensor& dgamma, const Tensor& dbeta, Device device) {
  check_batch_norm_input(op, x, device);
  check_shapes(op, x.dtype(), x.shape(), {{"dy", &dy}, {"dx", &dx}}, device, x.layout());
  check_f32_shapes(op, {x.dim(1)},
                   {{"gamma", &gamma},
                    {"saved_mean", &saved_mean},
                    {"saved_invstd", &saved_invstd},
                    {"dgamma", &dgamma},
                    {"dbeta", &dbeta}},
                   device);
}

}  // namespace

bool is_floating(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

void check_float_input(const Tensor& tensor, const char* op, const char* argument, int rank,
                       Device device) {
  R50_CHECK(tensor.defined(), op, ": ", argument, " is missing (expected a ", rank,
            "-D F32, F16 or BF16 tensor)");
  R50_CHECK(is_floating(tensor.dtype()) && tensor.rank() == rank && tensor.device() == device, op, ": ", argument,
            " is ", tensor.str(), " but expected a ", rank, "-D F32, F16 or BF16 tensor on ", device.str());
}

void check_f32_input(const Tensor& tensor, const char* op, const char* argument, int rank,
                     Device device) {
  R50_CHECK(tensor.defined(), op, ": ", argument, " is missing (expected a ", rank,
            "-D F32 tensor)");
  R50_CHECK(tensor.dtype() == DType::F32 && tensor.rank() == rank && tensor.device() == device, op, ": ",
            argument, " is ", tensor.str(), " but expected a ", rank, "-D F32 tensor on ", device.str());
}

void check_copy(const Tensor& dst, const Tensor& src, Device device) {
  R50_CHECK(src.defined() && src.device() == device, "copy: src is ", src.str(),
            " but expected a tensor on ", device.str());
  R50_CHECK(dst.defined() && dst.device() == device && dst.dtype() == src.dtype() &&
                dst.shape() == src.shape() && dst.layout() == src.layout(),
            "copy: dst is ", dst.str(), " but src is ", src.str());
}

void check_fill(const Tensor& dst, Device device) {
  R50_CHECK(dst.defined() && is_floating(dst.dtype()) && dst.device() == device, "fill: dst is ",
            dst.str(), " but expected an F32, F16 or BF16 tensor on ", device.str());
}

void check_cast(const Tensor& src, const Tensor& dst, Device device) {
  const char* op = "cast";
  check_float_input(src, op, "src", src.rank(), device);
  check_float_input(dst, op, "dst", dst.rank(), device);
  R50_CHECK(dst.shape() == src.shape() && dst.layout() == src.layout(), op, ": dst is ", dst.str(), " but src is ",
            src.str());
  R50_CHECK(dst.data() != src.data() || dst.dtype() == src.dtype(), op, ": dst ", dst.str(),
            " aliases src ", src.str(), " of another dtype");
}

void check_find_non_finite(const std::vector<Tensor>& tensors, const Tensor& found, Device device) {
  const char* op = "find_non_finite";
  for (const Tensor& tensor : tensors) check_float_input(tensor, op, "tensors[i]", tensor.rank(), device);
  check_tensor(found, op, "found", DType::F32, {1}, device);
}

void check_conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& y,
                          const Conv2dParams& params, Device device) {
  const char* op = "conv2d_forward";
  check_float_input(x, op, "x", 4, device);
  check_float_input(w, op, "w", 4, device);
  check_tensor(w, op, "w", x.dtype(), w.shape(), device, x.layout());
  check_tensor(y, op, "y", x.dtype(), conv_output_shape(op, x, w, params), device, x.layout());
}

void check_conv2d_backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx,
                                const Conv2dParams& params, Device device) {
  const char* op = "conv2d_backward_data";
  check_float_input(dx, op, "dx", 4, device);
  check_float_input(w, op, "w", 4, device);
  check_tensor(w, op, "w", dx.dtype(), w.shape(), device, dx.layout());
  check_tensor(dy, op, "dy", dx.dtype(), conv_output_shape(op, dx, w, params), device, dx.layout());
}

void check_conv2d_backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                                  const Conv2dParams& params, Device device) {
  const char* op = "conv2d_backward_filter";
  check_float_input(x, op, "x", 4, device);
  check_float_input(dy, op, "dy", 4, device);
  check_float_input(dw, op, "dw", 4, device);
  check_tensor(dw, op, "dw", x.dtype(), {dy.dim(1), x.dim(1), dw.dim(2), dw.dim(3)}, device, x.layout());
  check_tensor(dy, op, "dy", x.dtype(), conv_output_shape(op, x, dw, params), device, x.layout());
}

void check_linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y,
                          Device device) {
  const char* op = "linear_forward";
  check_float_input(x, op, "x", 2, device);
  check_float_input(w, op, "w", 2, device);
  const std::int64_t N = x.dim(0), IN = x.dim(1), OUT = w.dim(0);
  const DType dtype = x.dtype();
  check_tensor(w, op, "w", dtype, {OUT, IN}, device);
  check_tensor(b, op, "b", dtype, {OUT}, device);
  check_tensor(y, op, "y", dtype, {N, OUT}, device);
}

void check_linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx,
                           const Tensor& dw, const Tensor& db, Device device) {
  const char* op = "linear_backward";
  check_float_input(x, op, "x", 2, device);
  check_float_input(w, op, "w", 2, device);
  const std::int64_t N = x.dim(0), IN = x.dim(1), OUT = w.dim(0);
  const DType dtype = x.dtype();
  check_tensor(w, op, "w", dtype, {OUT, IN}, device);
  check_tensor(dy, op, "dy", dtype, {N, OUT}, device);
  if (dx.defined()) check_tensor(dx, op, "dx", dtype, {N, IN}, device);
  check_tensor(dw, op, "dw", dtype, {OUT, IN}, device);
  check_tensor(db, op, "db", dtype, {OUT}, device);
}

void check_batch_norm_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                       const Tensor& running_mean, const Tensor& running_var,
                                       const Tensor& y, const Tensor& saved_mean,
                                       const Tensor& saved_invstd, Device device) {
  check_training_forward("batch_norm_forward_training", x, gamma, beta, running_mean, running_var, y,
                         saved_mean, saved_invstd, device);
}

void check_batch_norm_relu_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                            const Tensor& running_mean, const Tensor& running_var,
                                            const Tensor& residual, const Tensor& y,
                                            const Tensor& saved_mean, const Tensor& saved_invstd,
                                            Device device) {
  const char* op = "batch_norm_relu_forward_training";
  check_training_forward(op, x, gamma, beta, running_mean, running_var, y, saved_mean, saved_invstd, device);
  if (residual.defined()) check_tensor(residual, op, "residual", x.dtype(), x.shape(), device, x.layout());
}

void check_batch_norm_forward_inference(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                        const Tensor& running_mean, const Tensor& running_var,
                                        const Tensor& y, Device device) {
  const char* op = "batch_norm_forward_inference";
  check_batch_norm_input(op, x, device);
  check_f32_shapes(op, {x.dim(1)},
                   {{"gamma", &gamma},
                    {"beta", &beta},
                    {"running_mean", &running_mean},
                    {"running_var", &running_var}},
                   device);
  check_tensor(y, op, "y", x.dtype(), x.shape(), device, x.layout());
}

void check_batch_norm_backward_training(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                        const Tensor& saved_mean, const Tensor& saved_invstd,
                                        const Tensor& dx, const Tensor& dgamma,
                                        const Tensor& dbeta, Device device) {
  check_training_backward("batch_norm_backward_training", x, dy, gamma, saved_mean, saved_invstd, dx, dgamma,
                          dbeta, device);
}

void check_batch_norm_relu_backward_training(const Tensor& x, const Tensor& y, const Tensor& dy,
                                             const Tensor& gamma, const Tensor& beta,
                                             const Tensor& saved_mean, const Tensor& saved_invstd,
                                             const Tensor& dx, const Tensor& dresidual,
                                             const Tensor& dgamma, const Tensor& dbeta, Device device) {
  const char* op = "batch_norm_relu_backward_training";
  check_training_backward(op, x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta, device);
  check_shapes(op, x.dtype(), x.shape(), {{"y", &y}}, device, x.layout());
  check_f32_shapes(op, {x.dim(1)}, {{"beta", &beta}}, device);
  if (dresidual.defined()) check_tensor(dresidual, op, "dresidual", x.dtype(), x.shape(), device, x.layout());
}

void check_batch_norm_backward_inference(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                         const Tensor& running_mean, const Tensor& running_var,
                                         const Tensor& dx, const Tensor& dgamma,
                                         const Tensor& dbeta, Device device) {
  const char* op = "batch_norm_backward_inference";
  check_batch_norm_input(op, x, device);
  check_shapes(op, x.dtype(), x.shape(), {{"dy", &dy}, {"dx", &dx}}, device, x.layout());
  check_f32_shapes(op, {x.dim(1)},
                   {{"gamma", &gamma},
                    {"running_mean", &running_mean},
                    {"running_var", &running_var},
                    {"dgamma", &dgamma},
                    {"dbeta", &dbeta}},
                   device);
}

void check_relu_forward(const Tensor& x, const Tensor& y, Device device) {
  const char* op = "relu_forward";
  check_float_input(x, op, "x", x.rank(), device);
  check_tensor(y, op, "y", x.dtype(), x.shape(), device, x.layout());
}

void check_relu_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Device device) {
  const char* op = "relu_backward";
  check_float_input(y, op, "y", y.rank(), device);
  check_shapes(op, y.dtype(), y.shape(), {{"dy", &dy}, {"dx", &dx}}, device, y.layout());
}

void check_add(const Tensor& a, const Tensor& b, const Tensor& y, Device device) {
  const char* op = "add";
  check_float_input(a, op, "a", a.rank(), device);
  check_shapes(op, a.dtype(), a.shape(), {{"b", &b}, {"y", &y}}, device, a.layout());
}

void check_max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& params,
                              Device device) {
  const char* op = "max_pool2d_forward";
  check_float_input(x, op, "x", 4, device);
  check_tensor(y, op, "y", x.dtype(), pool_output_shape(op, x, params), device, x.layout());
}

void check_max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& dy,
                               const Tensor& dx, const Pool2dParams& params, Device device) {
  const char* op = "max_pool2d_backward";
  check_float_input(x, op, "x", 4, device);
  check_tensor(y, op, "y", x.dtype(), pool_output_shape(op, x, params), device, x.layout());
  check_tensor(dy, op, "dy", x.dtype(), y.shape(), device, x.layout());
  check_tensor(dx, op, "dx", x.dtype(), x.shape(), device, x.layout());
}

void check_global_avg_pool_forward(const Tensor& x, const Tensor& y, Device device) {
  const char* op = "global_avg_pool_forward";
  check_float_input(x, op, "x", 4, device);
  check_tensor(y, op, "y", x.dtype(), {x.dim(0), x.dim(1)}, device);
}

void check_global_avg_pool_backward(const Tensor& dy, const Tensor& dx, Device device) {
  const char* op = "global_avg_pool_backward";
  check_float_input(dx, op, "dx", 4, device);
  check_tensor(dy, op, "dy", dx.dtype(), {dx.dim(0), dx.dim(1)}, device);
}

void check_softmax_cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                         const Tensor& probs, const Tensor& loss, Device device) {
  const char* op = "softmax_cross_entropy_forward";
  check_float_input(logits, op, "logits", 2, device);
  R50_CHECK(logits.dim(0) > 0 && logits.dim(1) > 0, op, ": logits ", logits.shape().str(),
            " must have a row and a class");
  check_tensor(probs, op, "probs", DType::F32, logits.shape(), device);
  check_tensor(loss, op, "loss", DType::F32, {1}, device);
  check_tensor(labels, op, "labels", DType::I32, {logits.dim(0)}, device);
}

void check_softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                          const Tensor& dlogits, Device device) {
  const char* op = "softmax_cross_entropy_backward";
  check_f32_input(probs, op, "probs", 2, device);
  check_float_input(dlogits, op, "dlogits", 2, device);
  check_tensor(dlogits, op, "dlogits", dlogits.dtype(), probs.shape(), device);
  check_tensor(labels, op, "labels", DType::I32, {probs.dim(0)}, device);
}

void check_loss_grad(const Tensor& loss_grad, Device device) {
  check_tensor(loss_grad, "softmax_cross_entropy_backward", "loss_grad", DType::F32, {1}, device);
}

void check_sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                    const SgdParams& params, Device device) {
  const char* op = "sgd_step";
  check_f32_input(param, op, "param", param.rank(), device);
  check_float_input(grad, op, "grad", param.rank(), device);
  check_tensor(grad, op, "grad", grad.dtype(), param.shape(), device, param.layout());
  if (params.momentum != 0.0f) {
    check_tensor(momentum_buffer, op, "momentum_buffer", DType::F32, param.shape(), device, param.layout());
  }
  R50_CHECK(!params.nesterov || (params.momentum > 0.0f && params.dampening == 0.0f), op,
            ": Nesterov momentum requires a momentum and zero dampening (as torch.optim.SGD), got "
            "momentum ",
            params.momentum, " dampening ", params.dampening);
}

void check_sgd_tensors(const SgdTensors& tensors, const SgdParams& params, Device device) {
  check_sgd_step(tensors.param, tensors.grad, tensors.momentum_buffer, params, device);
  const Tensor& copy = tensors.compute_copy;
  if (!copy.defined()) return;
  check_float_input(copy, "sgd_step", "compute_copy", copy.rank(), device);
  R50_CHECK(copy.dtype() != DType::F32 && copy.shape() == tensors.param.shape() &&
                copy.layout() == tensors.param.layout(),
            "sgd_step: compute_copy is ", copy.str(), " but expected F16 or BF16 of param's shape and layout, ",
            tensors.param.str());
}

namespace {

void check_device_loss_scale(const DeviceLossScale& loss_scale, const char* op, Device device) {
  check_tensor(loss_scale.state, op, "loss_scale.state", DType::F32, {kLossScaleSlots}, device);
  check_tensor(loss_scale.found, op, "loss_scale.found", DType::F32, {1}, device);
}

}  // namespace

void check_sgd_step_all_under_loss_scale(const SgdParams& params, const DeviceLossScale& loss_scale, Device device) {
  check_device_loss_scale(loss_scale, "sgd_step_all", device);
  R50_CHECK(params.grad_scale == 1.0f, "sgd_step_all: the loss scale on the device sets the gradients' scale, but "
            "grad_scale is ", params.grad_scale);
}

void check_update_loss_scale(const DeviceLossScale& loss_scale, const LossScaleParams& params, Device device) {
  check_device_loss_scale(loss_scale, "update_loss_scale", device);
  check_loss_scale_params(params);
}

void check_loss_scale_params(const LossScaleParams& params) {
  R50_CHECK(params.initial > 0.0f && params.growth_factor > 1.0f && params.backoff_factor > 0.0f &&
                params.backoff_factor < 1.0f && params.growth_interval > 0 && params.growth_interval <= (1 << 24),
            "loss scaling needs a positive initial scale, growth above 1, backoff in (0, 1) and an interval "
            "from 1 to 2^24, got ",
            params.initial, ", ", params.growth_factor, ", ", params.backoff_factor, ", ", params.growth_interval);
}

void check_normalize_images(const Tensor& images, const Tensor& y, const std::array<float, 3>& std,
                            Device device) {
  const char* op = "normalize_images";
  R50_CHECK(images.defined() && images.dtype() == DType::U8 && images.rank() == 4 &&
                images.dim(3) == 3 && images.layout() == Layout::RowMajor &&
                images.device() == device,
            op, ": images is ", images.str(), " but expected U8[N, H, W, 3] row-major on ",
            device.str());
  check_float_input(y, op, "y", 4, device);
  check_tensor(y, op, "y", y.dtype(), {images.dim(0), 3, images.dim(1), images.dim(2)}, device, y.layout());
  for (int c = 0; c < 3; ++c) {
    R50_CHECK(std[c] > 0.0f, op, ": std[", c, "] is ", std[c], " but must be positive");
  }
}

}  // namespace r50
