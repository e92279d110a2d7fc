#include "model/resnet50.h"

#include <cmath>
#include <vector>

#include "core/rng.h"

namespace r50 {
namespace {

// torchvision's names of the stem's and the head's modules without parameters.
const std::string kRelu = "relu", kMaxPool = "maxpool", kAvgPool = "avgpool";

// torchvision's _make_layer for each of the four stages: [3, 4, 6, 3] blocks of widths 64 to 512;
// the first block of a stage changes the channel count (and, past layer1, halves H and W).
std::vector<std::unique_ptr<Bottleneck>> make_blocks(ModelState& state) {
  constexpr int kBlocks[4] = {3, 4, 6, 3};
  constexpr int kWidths[4] = {64, 128, 256, 512};
  std::vector<std::unique_ptr<Bottleneck>> blocks;
  int in_channels = 64;
  for (int stage = 0; stage < 4; ++stage) {
    for (int index = 0; index < kBlocks[stage]; ++index) {
      const std::string name = "layer" + std::to_string(stage + 1) + "." + std::to_string(index);
      const int stride = (index == 0 && stage > 0) ? 2 : 1;
      blocks.push_back(std::make_unique<Bottleneck>(state, name, in_channels, kWidths[stage], stride));
      in_channels = blocks.back()->out_channels();
    }
  }
  return blocks;
}

}  // namespace

Bottleneck::Bottleneck(ModelState& state, const std::string& name, int in_channels, int width,
                       int stride)
    : state_(&state),
      relu_name_(name + ".relu"),
      add_name_(name + ".add"),
      out_channels_(width * 4),
      conv1_(state, name + ".conv1", in_channels, width, 1, 1, 0),
      bn1_(state, name + ".bn1", width),
      conv2_(state, name + ".conv2", width, width, 3, stride, 1),
      bn2_(state, name + ".bn2", width),
      conv3_(state, name + ".conv3", width, out_channels_, 1, 1, 0),
      bn3_(state, name + ".bn3", out_channels_) {
  if (stride != 1 || in_channels != out_channels_) {
    downsample_conv_.emplace(state, name + ".downsample.0", in_channels, out_channels_, 1, stride, 0);
    downsample_bn_.emplace(state, name + ".downsample.1", out_channels_);
  }
}

void Bottleneck::forward(Backend& backend, const Tensor& x, BatchNormMode mode) {
  c1_ = state_->make_activation(conv1_.output_shape(x.shape()));
  a1_ = state_->make_activation(c1_.shape());
  conv1_.forward(backend, x, c1_);
  bn1_.forward_relu(backend, c1_, Tensor(), a1_, mode, add_name_, relu_name_);

  c2_ = state_->make_activation(conv2_.output_shape(a1_.shape()));
  a2_ = state_->make_activation(c2_.shape());
  conv2_.forward(backend, a1_, c2_);
  bn2_.forward_relu(backend, c2_, Tensor(), a2_, mode, add_name_, relu_name_);

  // The shortcut first, so that bn3 can add it and apply the last ReLU in the same op.
  OwnedTensor identity;
  if (downsample_conv_) {
    cd_ = state_->make_activation(downsample_conv_->output_shape(x.shape()));
    identity = state_->make_activation(cd_.shape());
    downsample_conv_->forward(backend, x, cd_);
    downsample_bn_->forward(backend, cd_, identity, mode);
  }
  c3_ = state_->make_activation(conv3_.output_shape(a2_.shape()));
  out_ = state_->make_activation(c3_.shape());
  conv3_.forward(backend, a2_, c3_);
  bn3_.forward_relu(backend, c3_, downsample_conv_ ? identity.tensor() : x, out_, mode, add_name_, relu_name_);
}

void Bottleneck::backward(Backend& backend, const Tensor& x, const Tensor& dout, const Tensor& dx) {
  // The gradient at the sum, before the final ReLU, flows to both the main path and the shortcut.
  // Fused, the sum of the two paths' input gradients costs no pass of its own: with an identity
  // shortcut, bn3's backward writes the gradient at the sum straight into dx and conv1 adds its
  // own to it; with a downsample, the shortcut's convolution adds its to conv1's.
  const bool fused = state_->fused_batch_norm_relu();
  const bool into_dx = fused && !downsample_conv_;
  const OwnedTensor dsum_apart = into_dx ? OwnedTensor() : state_->make_activation(out_.shape());
  const Tensor& dsum = into_dx ? dx : dsum_apart.tensor();
  OwnedTensor dc = state_->make_activation(c3_.shape());
  bn3_.backward_relu(backend, c3_, out_, dout, dc, dsum, relu_name_);
  OwnedTensor da = state_->make_activation(a2_.shape());
  conv3_.backward(backend, a2_, dc, da);

  dc = state_->make_activation(c2_.shape());
  bn2_.backward_relu(backend, c2_, a2_, da, dc, Tensor(), relu_name_);
  da = state_->make_activation(a1_.shape());
  conv2_.backward(backend, a1_, dc, da);

  dc = state_->make_activation(c1_.shape());
  bn1_.backward_relu(backend, c1_, a1_, da, dc, Tensor(), relu_name_);
  da = {};
  conv1_.backward(backend, x, dc, dx, /*accumulate_dx=*/into_dx);
  dc = {};

  LayerObserver* observer = state_->observer();
  if (downsample_conv_) {
    const OwnedTensor dcd = state_->make_activation(cd_.shape());
    downsample_bn_->backward(backend, cd_, dsum, dcd);
    if (fused) {
      downsample_conv_->backward(backend, x, dcd, dx, /*accumulate_dx=*/true);
    } else {
      const OwnedTensor dshortcut = state_->make_activation(x.shape());
      downsample_conv_->backward(backend, x, dcd, dshortcut);
      observed(observer, add_name_, Pass::Backward, [&] { backend.add(dx, dshortcut, dx); });
    }
  } else if (!fused) {
    observed(observer, add_name_, Pass::Backward, [&] { backend.add(dx, dsum, dx); });
  }

  for (OwnedTensor* kept : {&c1_, &a1_, &c2_, &a2_, &c3_, &cd_, &out_}) *kept = {};
  for (BatchNorm2d* bn : {&bn1_, &bn2_, &bn3_}) bn->release_saved();
  if (downsample_bn_) downsample_bn_->release_saved();
}

ResNet50::ResNet50(Backend& backend, int num_classes, DType compute_dtype, Layout layout)
    : state_(backend, compute_dtype, layout),
      num_classes_(num_classes),
      conv1_(state_, "conv1", 3, 64, 7, 2, 3),
      bn1_(state_, "bn1", 64),
      blocks_(make_blocks(state_)),
      fc_(state_, "fc", 2048, num_classes) {
  R50_CHECK(num_classes > 0, "ResNet50 needs at least one class, got ", num_classes);
  parameters_ = state_.parameters();
}

void ResNet50::initialize(std::uint64_t seed) {
  Backend& backend = state_.backend();
  const std::vector<StateEntry>& entries = state_.entries();
  for (std::size_t index = 0; index < entries.size(); ++index) {
    const StateEntry& entry = entries[index];
    if (entry.kind == StateEntry::Kind::BatchCounter) {
      *entry.counter = 0;
      continue;
    }
    const std::string& name = entry.name;
    auto ends_with = [&name](const std::string& suffix) {
      return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    std::vector<float> values(static_cast<std::size_t>(entry.tensor.numel()));
    Rng rng = Rng::keyed(seed, index);
    const Shape& shape = entry.tensor.shape();
    if (name.rfind("fc.", 0) == 0) {
      // nn.Linear.reset_parameters: weight and bias uniform in ±1/sqrt(fan_in).
      const double bound = 1.0 / std::sqrt(static_cast<double>(fc_.weight().value.shape()[1]));
      for (float& v : values) v = static_cast<float>(rng.uniform(-bound, bound));
    } else if (shape.rank() == 4) {
      // kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (out · k · k)).
      const double stddev = std::sqrt(2.0 / static_cast<double>(shape[0] * shape[2] * shape[3]));
      for (float& v : values) v = static_cast<float>(rng.normal(0.0, stddev));
    } else {
      const bool ones = ends_with(".weight") || ends_with(".running_var");
      for (float& v : values) v = ones ? 1.0f : 0.0f;
    }
    copy_from_host_nchw(backend, entry.tensor, values.data());
  }
  for (Parameter* parameter : parameters_) parameter->momentum_initialized = false;
  refresh_compute_copies();
}

const Tensor& ResNet50::forward(const Tensor& images, BatchNormMode mode) {
  Backend& backend = state_.backend();
  R50_CHECK(images.rank() == 4 && images.dim(1) == 3 &&
                (images.dtype() == DType::F32 || images.dtype() == compute_dtype()) && images.layout() == layout(),
            "ResNet50::forward: images are ", images.str(), " but expected F32[N, 3, H, W] or ",
            dtype_name(compute_dtype()), "[N, 3, H, W], ", layout_name(layout()), " as the model");
  images_ = images;
  if (images.dtype() != compute_dtype()) {
    rounded_images_ = state_.make_activation(images.shape());
    backend.cast(images, rounded_images_);
    images_ = rounded_images_;
  }

  stem_conv_ = state_.make_activation(conv1_.output_shape(images.shape()));
  stem_relu_ = state_.make_activation(stem_conv_.shape());
  conv1_.forward(backend, images_, stem_conv_);
  bn1_.forward_relu(backend, stem_conv_, Tensor(), stem_relu_, mode, std::string(), kRelu);
  LayerObserver* observer = state_.observer();
  stem_pool_ = state_.make_activation(max_pool2d_output_shape(stem_relu_.shape(), Pool2dParams{}));
  observed(observer, kMaxPool, Pass::Forward,
           [&] { backend.max_pool2d_forward(stem_relu_, stem_pool_, Pool2dParams{}); });

  const Tensor* x = &stem_pool_.tensor();
  for (const auto& block : blocks_) {
    block->forward(backend, *x, mode);
    x = &block->output();
  }
  features_ = state_.make_activation({x->dim(0), x->dim(1)});
  observed(observer, kAvgPool, Pass::Forward, [&] { backend.global_avg_pool_forward(*x, features_); });
  logits_ = state_.make_activation({x->dim(0), num_classes_});
  fc_.forward(backend, features_, logits_);
  return logits_.tensor();
}

void ResNet50::backward(const Tensor& dlogits) {
  Backend& backend = state_.backend();
  R50_CHECK(logits_.tensor().defined() && stem_conv_.tensor().defined(),
            "ResNet50::backward called without a forward before it");
  const Tensor& last = blocks_.back()->output();
  OwnedTensor dfeatures = state_.make_activation(features_.shape());
  fc_.backward(backend, features_, dlogits, dfeatures);
  OwnedTensor dout = state_.make_activation(last.shape());
  LayerObserver* observer = state_.observer();
  observed(observer, kAvgPool, Pass::Backward, [&] { backend.global_avg_pool_backward(dfeatures, dout); });
  dfeatures = {};

  for (std::size_t index = blocks_.size(); index-- > 0;) {
    const Tensor& block_input = index > 0 ? blocks_[index - 1]->output() : stem_pool_.tensor();
    OwnedTensor dx = state_.make_activation(block_input.shape());
    blocks_[index]->backward(backend, block_input, dout, dx);
    dout = std::move(dx);
  }

  const OwnedTensor drelu = state_.make_activation(stem_relu_.shape());
  observed(observer, kMaxPool, Pass::Backward,
           [&] { backend.max_pool2d_backward(stem_relu_, stem_pool_, dout, drelu, Pool2dParams{}); });
  dout = {};
  const OwnedTensor dconv = state_.make_activation(stem_conv_.shape());
  bn1_.backward_relu(backend, stem_conv_, stem_relu_, drelu, dconv, Tensor(), kRelu);
  conv1_.backward(backend, images_, dconv, Tensor());

  bn1_.release_saved();
  images_ = {};
  for (OwnedTensor* kept : {&rounded_images_, &stem_conv_, &stem_relu_, &stem_pool_, &features_}) *kept = {};
}

}  // namespace r50
