// defines: Bottleneck, ResNet50
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/layers.h"

namespace r50 {

// torchvision's Bottleneck (ResNet v1.5: the stride sits on the 3×3 convolution):
// out = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + downsample(x)), expansion 4.
class Bottleneck {
 public:
  Bottleneck(ModelState& state, const std::string& name, int in_channels, int width, int stride);

  // Writes the block's output into memory it owns (output()); x must stay valid until backward.
  void forward(Backend& backend, const Tensor& x, BatchNormMode mode);
  const Tensor& output() const { return out_; }
  // dx from dout; then releases what forward kept.
  void backward(Backend& backend, const Tensor& x, const Tensor& dout, const Tensor& dx);

  int out_channels() const { return out_channels_; }

 private:
  const ModelState* state_;
  std::string relu_name_, add_name_;  // "layer1.0.relu", "layer1.0.add", for the observer
  int out_channels_;
  Conv2d conv1_;
  BatchNorm2d bn1_;
  Conv2d conv2_;
  BatchNorm2d bn2_;
  Conv2d conv3_;
  BatchNorm2d bn3_;
  std::optional<Conv2d> downsample_conv_;  // "downsample.0": 1×1, stride as the block's
  std::optional<BatchNorm2d> downsample_bn_;  // "downsample.1"

  // Kept by forward for backward: the convolutions' outputs (batch norm's inputs) and the ReLUs'
  // outputs (the next convolution's inputs, and the ReLU backward's mask).
  OwnedTensor c1_, a1_, c2_, a2_, c3_, cd_, out_;
};

// ResNet-50 v1.5 exactly as torchvision.models.resnet50(num_classes=...) builds it, with its
// state_dict names and initialisation. Input: normalised images [N, 3, H, W].
//
// Mixed precision (compute_dtype F16 or BF16, as torch.autocast runs ResNet-50): activations
// and their gradients, and the convolutions' and the classifier's weights, in that dtype, from
// F32 master weights that the optimiser updates; batch norm computes in F32 and keeps F32
// parameters and statistics; the logits come out in the compute dtype.
class ResNet50 {
 public:
  // `layout`: channels-last keeps activations and convolution weights NHWC (KRSC), the memory
  // order tensor cores read; the state_dict, initialisation and every host copy stay in
  // torchvision's NCHW order (copy_from_host_nchw).
  ResNet50(Backend& backend, int num_classes, DType compute_dtype = DType::F32, Layout layout = Layout::RowMajor);

  int num_classes() const { return num_classes_; }
  DType compute_dtype() const { return state_.compute_dtype(); }
  Layout layout() const { return state_.layout(); }
  // Rounds the master weights into their compute copies (ModelState::refresh_compute_copies);
  // initialize() and load_state_dict do it, SGD steps through TrainStep do it as they update.
  void refresh_compute_copies() { state_.refresh_compute_copies(); }
  Backend& backend() const { return state_.backend(); }
  const std::vector<StateEntry>& state() const { return state_.entries(); }
  const std::vector<Parameter*>& parameters() const { return parameters_; }
  std::int64_t parameter_count() const { return state_.parameter_count(); }

  // torchvision's initialisation: kaiming_normal_(fan_out, relu) for convolutions, batch norm
  // weight 1 and bias 0, running statistics 0 and 1, nn.Linear's default for fc. Draws are
  // keyed by (seed, parameter index), so they do not depend on the order of initialisation.
  void initialize(std::uint64_t seed);

  // Logits [N, num_classes] in the compute dtype, owned by the model until the next forward.
  // `images` (F32 or the compute dtype, F32 ones rounded to it first; in the model's layout) must
  // stay valid until backward, which reads it for conv1's weight gradient.
  const Tensor& forward(const Tensor& images, BatchNormMode mode);
  // Overwrites every parameter's gradient with d(loss)/d(parameter), given dlogits (in the
  // compute dtype); then releases the activations forward kept.
  void backward(const Tensor& dlogits);

  // Every convolution, batch norm and the classifier, for tests and per-layer reports.
  const Conv2d& conv1() const { return conv1_; }
  // Who hears of each layer's forward and backward work (model/layer_observer.h); none: nullptr.
  void set_observer(LayerObserver* observer) { state_.set_observer(observer); }
  LayerObserver* observer() const { return state_.observer(); }
  // Batch norm with its ReLU (and residual sum) as one op under batch statistics, as by default,
  // or as separate ops, the baseline that the fused kernels are measured against.
  void set_fused_batch_norm_relu(bool fused) { state_.set_fused_batch_norm_relu(fused); }
  const Linear& fc() const { return fc_; }

 private:
  ModelState state_;
  int num_classes_;
  Conv2d conv1_;
  BatchNorm2d bn1_;
  std::vector<std::unique_ptr<Bottleneck>> blocks_;  // layer1.0 ... layer4.2
  Linear fc_;
  std::vector<Parameter*> parameters_;

  // Kept by forward for backward.
  Tensor images_;
  OwnedTensor rounded_images_;  // F32 images in the compute dtype
  OwnedTensor stem_conv_, stem_relu_, stem_pool_, features_, logits_;
};

}  // namespace r50
