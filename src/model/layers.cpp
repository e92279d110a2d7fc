#include "model/layers.h"

namespace r50 {

Conv2d::Conv2d(ModelState& state, const std::string& name, int in_channels, int out_channels,
               int kernel, int stride, int padding)
    : state_(&state),
      name_(name),
      weight_(&state.add_parameter(name + ".weight", {out_channels, in_channels, kernel, kernel}, true)),
      params_{stride, padding} {}

Shape Conv2d::output_shape(const Shape& x) const {
  return conv2d_output_shape(x, weight_->value.shape(), params_);
}

void Conv2d::forward(Backend& backend, const Tensor& x, const Tensor& y) const {
  observed(state_->observer(), name_, Pass::Forward,
           [&] { backend.conv2d_forward(x, weight_->compute_value(), y, params_); });
}

void Conv2d::backward(Backend& backend, const Tensor& x, const Tensor& dy, const Tensor& dx,
                      bool accumulate_dx) const {
  observed(state_->observer(), name_, Pass::Backward, [&] {
    backend.conv2d_backward_filter(x, dy, weight_->grad, params_);
    if (dx.defined()) backend.conv2d_backward_data(dy, weight_->compute_value(), dx, params_, accumulate_dx);
  });
}

int Conv2d::fan_out() const {
  const Shape& shape = weight_->value.shape();
  return static_cast<int>(shape[0] * shape[2] * shape[3]);
}

BatchNorm2d::BatchNorm2d(ModelState& state, const std::string& name, int channels)
    : state_(&state),
      name_(name),
      weight_(&state.add_parameter(name + ".weight", {channels})),
      bias_(&state.add_parameter(name + ".bias", {channels})),
      running_mean_(state.add_running_statistic(name + ".running_mean", {channels})),
      running_var_(state.add_running_statistic(name + ".running_var", {channels})),
      num_batches_tracked_(&state.add_batch_counter(name + ".num_batches_tracked")) {}

// Room for the batch's mean and inverse deviation, which the training backward reads.
void BatchNorm2d::keep_statistics(Backend& backend, std::int64_t channels) {
  saved_mean_ = OwnedTensor(backend.allocator(), {channels}, DType::F32, backend.device());
  saved_invstd_ = OwnedTensor(backend.allocator(), {channels}, DType::F32, backend.device());
}

void BatchNorm2d::forward(Backend& backend, const Tensor& x, const Tensor& y, BatchNormMode mode) {
  mode_ = mode;
  fused_ = false;
  if (mode == BatchNormMode::RunningStatistics) {
    observed(state_->observer(), name_, Pass::Forward, [&] {
      backend.batch_norm_forward_inference(x, weight_->value, bias_->value, running_mean_, running_var_,
                                           y, params_.eps);
    });
    return;
  }
  keep_statistics(backend, x.dim(1));
  observed(state_->observer(), name_, Pass::Forward, [&] {
    backend.batch_norm_forward_training(x, weight_->value, bias_->value, running_mean_, running_var_, y,
                                        saved_mean_, saved_invstd_, params_);
  });
  ++*num_batches_tracked_;
}

void BatchNorm2d::backward(Backend& backend, const Tensor& x, const Tensor& dy, const Tensor& dx) {
  observed(state_->observer(), name_, Pass::Backward, [&] {
    if (mode_ == BatchNormMode::RunningStatistics) {
      backend.batch_norm_backward_inference(x, dy, weight_->value, running_mean_, running_var_,
                                            params_.eps, dx, weight_->grad, bias_->grad);
    } else {
      backend.batch_norm_backward_training(x, dy, weight_->value, saved_mean_, saved_invstd_, dx,
                                           weight_->grad, bias_->grad);
    }
  });
}

void BatchNorm2d::forward_relu(Backend& backend, const Tensor& x, const Tensor& residual, const Tensor& y,
                               BatchNormMode mode, const std::string& add_name, const std::string& relu_name) {
  LayerObserver* observer = state_->observer();
  if (mode == BatchNormMode::RunningStatistics || !state_->fused_batch_norm_relu()) {
    forward(backend, x, y, mode);
    if (residual.defined()) observed(observer, add_name, Pass::Forward, [&] { backend.add(y, residual, y); });
    observed(observer, relu_name, Pass::Forward, [&] { backend.relu_forward(y, y); });
    fused_ = false;
    return;
  }
  mode_ = mode;
  keep_statistics(backend, x.dim(1));
  observed(observer, name_, Pass::Forward, [&] {
    backend.batch_norm_relu_forward_training(x, weight_->value, bias_->value, running_mean_, running_var_, residual,
                                             y, saved_mean_, saved_invstd_, params_);
  });
  ++*num_batches_tracked_;
  fused_ = true;
}

void BatchNorm2d::backward_relu(Backend& backend, const Tensor& x, const Tensor& y, const Tensor& dy,
                                const Tensor& dx, const Tensor& dresidual, const std::string& relu_name) {
  if (!fused_) {
    const Tensor& past_relu = dresidual.defined() ? dresidual : dy;
    observed(state_->observer(), relu_name, Pass::Backward, [&] { backend.relu_backward(y, dy, past_relu); });
    backward(backend, x, past_relu, dx);
    return;
  }
  observed(state_->observer(), name_, Pass::Backward, [&] {
    backend.batch_norm_relu_backward_training(x, y, dy, weight_->value, bias_->value, saved_mean_, saved_invstd_,
                                              dx, dresidual, weight_->grad, bias_->grad);
  });
}

Linear::Linear(ModelState& state, const std::string& name, int in_features, int out_features)
    : state_(&state),
      name_(name),
      weight_(&state.add_parameter(name + ".weight", {out_features, in_features}, true)),
      bias_(&state.add_parameter(name + ".bias", {out_features}, true)) {}

void Linear::forward(Backend& backend, const Tensor& x, const Tensor& y) const {
  observed(state_->observer(), name_, Pass::Forward,
           [&] { backend.linear_forward(x, weight_->compute_value(), bias_->compute_value(), y); });
}

void Linear::backward(Backend& backend, const Tensor& x, const Tensor& dy, const Tensor& dx) const {
  observed(state_->observer(), name_, Pass::Backward,
           [&] { backend.linear_backward(x, weight_->compute_value(), dy, dx, weight_->grad, bias_->grad); });
}

}  // namespace r50
