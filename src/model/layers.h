// defines: BatchNormMode, Conv2d, BatchNorm2d, Linear
#pragma once

#include <cstdint>
#include <string>

#include "model/model_state.h"

namespace r50 {

// Which statistics batch norm normalises with: the batch's own (torch's model.train(), which also
// updates the running statistics) or the running ones (model.eval()).
enum class BatchNormMode { BatchStatistics, RunningStatistics };

// A bias-free 2-D convolution, as every ResNet-50 convolution is. Weight: "<name>.weight".
class Conv2d {
 public:
  Conv2d(ModelState& state, const std::string& name, int in_channels, int out_channels, int kernel,
         int stride, int padding);

  Shape output_shape(const Shape& x) const;
  void forward(Backend& backend, const Tensor& x, const Tensor& y) const;
  // Writes the weight's gradient, and dx unless dx is undefined (the first layer needs none); with
  // `accumulate_dx`, adds to dx instead, as where a residual block's two paths meet.
  void backward(Backend& backend, const Tensor& x, const Tensor& dy, const Tensor& dx,
                bool accumulate_dx = false) const;

  Parameter& weight() const { return *weight_; }
  int fan_out() const;  // out_channels · kernel², what kaiming_normal_(mode="fan_out") uses

 private:
  const ModelState* state_;
  std::string name_;
  Parameter* weight_;
  Conv2dParams params_;
};

// BatchNorm2d with torch's defaults (momentum 0.1, eps 1e-5). Registers "<name>.weight", ".bias",
// ".running_mean", ".running_var", ".num_batches_tracked" in torchvision's order. With batch
// statistics the forward keeps the batch mean and inverse deviation for the backward.
class BatchNorm2d {
 public:
  BatchNorm2d(ModelState& state, const std::string& name, int channels);

  void forward(Backend& backend, const Tensor& x, const Tensor& y, BatchNormMode mode);
  void backward(Backend& backend, const Tensor& x, const Tensor& dy, const Tensor& dx);
  // Batch norm, `residual` added where it is defined, then ReLU: y = max(bn(x) + residual, 0).
  // Under batch statistics and ModelState::fused_batch_norm_relu(), one op observed under this
  // layer's name; otherwise the separate ops, the sum observed as `add_name` and the ReLU as
  // `relu_name`.
  void forward_relu(Backend& backend, const Tensor& x, const Tensor& residual, const Tensor& y,
                    BatchNormMode mode, const std::string& add_name, const std::string& relu_name);
  // Its backward from the forward's x and y: dx, and dresidual (the gradient at the sum) exactly
  // where the forward had a residual. dy may be overwritten.
  void backward_relu(Backend& backend, const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& dx,
                     const Tensor& dresidual, const std::string& relu_name);
  void release_saved() {
    saved_mean_ = {};
    saved_invstd_ = {};
  }

  Parameter& weight() const { return *weight_; }
  Parameter& bias() const { return *bias_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }

 private:
  void keep_statistics(Backend& backend, std::int64_t channels);

  const ModelState* state_;
  std::string name_;
  Parameter* weight_;
  Parameter* bias_;
  Tensor running_mean_;
  Tensor running_var_;
  std::int64_t* num_batches_tracked_;
  BatchNormParams params_;
  BatchNormMode mode_ = BatchNormMode::BatchStatistics;  // of the last forward
  bool fused_ = false;                                   // the last forward was one fused op
  OwnedTensor saved_mean_;
  OwnedTensor saved_invstd_;
};

// The fully connected classifier: y = x wᵀ + b. Registers "<name>.weight" [out, in], "<name>.bias".
class Linear {
 public:
  Linear(ModelState& state, const std::string& name, int in_features, int out_features);

  void forward(Backend& backend, const Tensor& x, const Tensor& y) const;
  void backward(Backend& backend, const Tensor& x, const Tensor& dy, const Tensor& dx) const;

  Parameter& weight() const { return *weight_; }
  Parameter& bias() const { return *bias_; }

 private:
  const ModelState* state_;
  std::string name_;
  Parameter* weight_;
  Parameter* bias_;
};

}  // namespace r50
