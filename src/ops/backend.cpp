#include "ops/backend.h"

#include <chrono>
#include <cmath>
#include <vector>

#include "core/half.h"
#include "memory/buffer.h"
#include "ops/op_checks.h"

namespace r50 {
namespace {

// A floating tensor's values in memory order, and back: what an elementwise op sees.
std::vector<float> to_floats(Backend& backend, const Tensor& tensor) {
  std::vector<unsigned char> stored(tensor.nbytes());
  backend.copy_to_host(stored.data(), tensor);
  std::vector<float> values(static_cast<std::size_t>(tensor.numel()));
  floats_from(stored.data(), tensor.dtype(), tensor.numel(), values.data());
  return values;
}

void from_floats(Backend& backend, const std::vector<float>& values, const Tensor& tensor) {
  std::vector<unsigned char> stored(tensor.nbytes());
  floats_into(values.data(), tensor.numel(), stored.data(), tensor.dtype());
  backend.copy_from_host(tensor, stored.data());
}

// Where ops run as they are called, the work enqueued so far is the work done so far.
class HostClockTimer final : public Backend::Timer {
 public:
  explicit HostClockTimer(int marks) : marks_(static_cast<std::size_t>(marks)) {}
  void record(int mark) override { marks_.at(static_cast<std::size_t>(mark)) = Clock::now(); }
  double milliseconds(int from, int to) override {
    return std::chrono::duration<double, std::milli>(marks_.at(static_cast<std::size_t>(to)) -
                                                     marks_.at(static_cast<std::size_t>(from)))
        .count();
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> marks_;
};

}  // namespace

std::unique_ptr<Backend::Timer> Backend::make_timer(int marks) {
  R50_CHECK(marks > 0, "make_timer: ", marks, " marks");
  return std::make_unique<HostClockTimer>(marks);
}

void Backend::batch_norm_relu_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                               const Tensor& running_mean, const Tensor& running_var,
                                               const Tensor& residual, const Tensor& y,
                                               const Tensor& saved_mean, const Tensor& saved_invstd,
                                               const BatchNormParams& params) {
  check_batch_norm_relu_forward_training(x, gamma, beta, running_mean, running_var, residual, y, saved_mean,
                                         saved_invstd, device());
  batch_norm_forward_training(x, gamma, beta, running_mean, running_var, y, saved_mean, saved_invstd, params);
  if (residual.defined()) add(y, residual, y);
  relu_forward(y, y);
}

void Backend::batch_norm_relu_backward_training(const Tensor& x, const Tensor& y, const Tensor& dy,
                                                const Tensor& gamma, const Tensor& beta,
                                                const Tensor& saved_mean, const Tensor& saved_invstd,
                                                const Tensor& dx, const Tensor& dresidual,
                                                const Tensor& dgamma, const Tensor& dbeta) {
  check_batch_norm_relu_backward_training(x, y, dy, gamma, beta, saved_mean, saved_invstd, dx, dresidual,
                                          dgamma, dbeta, device());
  // The gradient past the ReLU goes to dresidual, or to scratch where nobody wants it.
  OwnedTensor scratch;
  if (!dresidual.defined()) scratch = OwnedTensor(allocator(), x.shape(), x.dtype(), device(), x.layout());
  const Tensor& past_relu = dresidual.defined() ? dresidual : scratch.tensor();
  relu_backward(y, dy, past_relu);
  batch_norm_backward_training(x, past_relu, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta);
}

void Backend::sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params) {
  for (const SgdTensors& entry : tensors) check_sgd_tensors(entry, params, device());
  for (const SgdTensors& entry : tensors) {
    sgd_step(entry.param, entry.grad, entry.momentum_buffer, params, entry.first_step);
    if (entry.compute_copy.defined()) cast(entry.param, entry.compute_copy);
  }
}

void Backend::sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params,
                           const DeviceLossScale& loss_scale) {
  check_sgd_step_all_under_loss_scale(params, loss_scale, device());
  for (const SgdTensors& entry : tensors) check_sgd_tensors(entry, params, device());
  if (to_floats(*this, loss_scale.found)[0] != 0.0f) return;
  const std::vector<float> state = to_floats(*this, loss_scale.state);
  SgdParams unscaled = params;
  unscaled.grad_scale = 1.0f / state[kLossScale];
  std::vector<SgdTensors> entries = tensors;
  for (SgdTensors& entry : entries) entry.first_step = state[kUpdatesApplied] == 0.0f;
  sgd_step_all(entries, unscaled);
}

// GradScaler's _amp_update_scale_, term for term; the CUDA kernel (kernels/loss_scale.cu) is its twin.
void Backend::update_loss_scale(const DeviceLossScale& loss_scale, const LossScaleParams& params) {
  check_update_loss_scale(loss_scale, params, device());
  std::vector<float> state = to_floats(*this, loss_scale.state);
  if (to_floats(*this, loss_scale.found)[0] != 0.0f) {
    state[kLossScale] *= params.backoff_factor;
    state[kCleanSteps] = 0.0f;
    state[kSkippedSteps] += 1.0f;
  } else {
    state[kUpdatesApplied] += 1.0f;
    state[kCleanSteps] += 1.0f;
    if (state[kCleanSteps] == static_cast<float>(params.growth_interval)) {
      const float grown = state[kLossScale] * params.growth_factor;
      if (std::isfinite(grown)) state[kLossScale] = grown;
      state[kCleanSteps] = 0.0f;
    }
  }
  from_floats(*this, state, loss_scale.state);
}

void Backend::softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels, const Tensor& dlogits,
                                             const Tensor& loss_grad) {
  check_loss_grad(loss_grad, device());
  softmax_cross_entropy_backward(probs, labels, dlogits, to_floats(*this, loss_grad)[0]);
}

void Backend::cast(const Tensor& src, const Tensor& dst, float scale) {
  check_cast(src, dst, device());
  std::vector<float> values = to_floats(*this, src);
  for (float& value : values) value *= scale;
  from_floats(*this, values, dst);
}

void Backend::find_non_finite(const std::vector<Tensor>& tensors, const Tensor& found) {
  check_find_non_finite(tensors, found, device());
  for (const Tensor& tensor : tensors) {
    for (float value : to_floats(*this, tensor)) {
      if (!std::isfinite(value)) {
        fill(found, 1.0f);
        return;
      }
    }
  }
}

void copy_from_host_nchw(Backend& backend, const Tensor& dst, const void* host) {
  if (dst.layout() == Layout::RowMajor) return backend.copy_from_host(dst, host);
  std::vector<unsigned char> stored(dst.nbytes());
  transpose_images(host, stored.data(), dst.shape(), dtype_size(dst.dtype()), Layout::ChannelsLast);
  backend.copy_from_host(dst, stored.data());
}

void copy_to_host_nchw(Backend& backend, void* host, const Tensor& src) {
  if (src.layout() == Layout::RowMajor) return backend.copy_to_host(host, src);
  std::vector<unsigned char> stored(src.nbytes());
  backend.copy_to_host(stored.data(), src);
  transpose_images(stored.data(), host, src.shape(), dtype_size(src.dtype()), Layout::RowMajor);
}

std::vector<float> copy_to_host_as_floats(Backend& backend, const Tensor& tensor) {
  std::vector<unsigned char> stored(tensor.nbytes());
  copy_to_host_nchw(backend, stored.data(), tensor);
  std::vector<float> values(static_cast<std::size_t>(tensor.numel()));
  floats_from(stored.data(), tensor.dtype(), tensor.numel(), values.data());
  return values;
}

std::unique_ptr<Backend::CapturedWork> Backend::capture(const std::function<void()>& /*work*/) {
  R50_THROW("CUDA graphs need the CUDA backend; the ", name(), " backend runs its ops as they are called");
}

std::int64_t conv_output_size(std::int64_t input, std::int64_t kernel, int stride, int padding) {
  R50_CHECK(stride > 0 && padding >= 0, "stride must be positive and padding not negative, got stride ",
            stride, " padding ", padding);
  const std::int64_t span = input + 2 * padding - kernel;
  R50_CHECK(span >= 0, "a window of ", kernel, " does not fit an input of ", input, " with padding ",
            padding);
  return span / stride + 1;
}

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& params) {
  R50_CHECK(x.rank() == 4 && w.rank() == 4, "conv2d: x ", x.str(), " and w ", w.str(),
            " must both be 4-D");
  R50_CHECK(x[1] == w[1], "conv2d: x ", x.str(), " has ", x[1], " channels but w ", w.str(),
            " expects ", w[1]);
  return {x[0], w[0], conv_output_size(x[2], w[2], params.stride, params.padding),
          conv_output_size(x[3], w[3], params.stride, params.padding)};
}

Shape max_pool2d_output_shape(const Shape& x, const Pool2dParams& params) {
  R50_CHECK(x.rank() == 4, "max_pool2d: x ", x.str(), " must be 4-D");
  R50_CHECK(params.padding * 2 <= params.kernel, "max_pool2d: padding ", params.padding,
            " is more than half the window ", params.kernel);
  return {x[0], x[1], conv_output_size(x[2], params.kernel, params.stride, params.padding),
          conv_output_size(x[3], params.kernel, params.stride, params.padding)};
}

}  // namespace r50
