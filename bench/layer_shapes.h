// defines: LayerOp, LayerShape, training_step_layers, layer_op_name, layer_shape_label
#pragma once

#include <string>
#include <vector>

#include "ops/backend.h"

namespace r50 {

// The ops of a training step that bench_layers times one by one: every convolution direction and
// the memory-bound kernels around them. The classifier, loss and optimiser are left out: they are
// a small share of a step and have one shape each.
enum class LayerOp {
  ConvForward,
  ConvBackwardData,
  ConvBackwardFilter,
  BatchNormForward,   // training: batch statistics
  BatchNormBackward,  // training
  BatchNormReluForward,  // training, fused with the ReLU after it (Backend::batch_norm_relu_*)
  BatchNormReluBackward,
  BatchNormAddReluForward,  // training, fused with the residual sum and the ReLU after it
  BatchNormAddReluBackward,
  ReluForward,
  ReluBackward,
  Add,
  MaxPoolForward,
  MaxPoolBackward,
  GlobalAvgPoolForward,
  GlobalAvgPoolBackward,
};

// One distinct call of a training step, with how often a step makes it. `x` is the forward's
// input [N, C, H, W] whatever the direction (for a backward op, the shape of dx), so a convolution
// reads the same under all three directions.
struct LayerShape {
  LayerOp op = LayerOp::ConvForward;
  Shape x;
  Shape w;             // convolutions: the weight [K, C, R, S]; empty otherwise
  Conv2dParams conv;   // convolutions
  Pool2dParams pool;   // max pooling
  bool in_place = false;  // ReLU and add: the output is the (first) input, as the model calls them
  bool accumulate = false;  // convolution backward-data: adds into dx, where a block's two paths meet
  int calls_per_step = 0;
  // The op's tensors' dtype, F32, F16 or BF16; batch norm's per-channel tensors (gamma, beta, the
  // statistics and their gradients) are F32 whatever it is.
  DType dtype = DType::F32;
  // The 4-D tensors' layout (activations and convolution weights), as the model's.
  Layout layout = Layout::RowMajor;
};

// Every distinct layer op one training step of ResNet-50 makes on a batch of `batch` images of
// `image_size` pixels, in the order the step first makes each. Found by running a step on a
// backend that computes nothing (recording_backend.h) and noting each call's shapes and
// parameters; calls alike in op, shapes, parameters and aliasing are one entry. `fused`: batch
// norm with its ReLU (and residual sum) as one op, as the model runs by default, or separately.
// The step is traced in F32; each entry's dtype is F32, for the caller to set to the run's.
std::vector<LayerShape> training_step_layers(int batch, int image_size, int classes = 1000, bool fused = true);

// "conv_forward", "batch_norm_backward", ...: the first part of a benchmark's name.
std::string layer_op_name(LayerOp op);

// The shape part of a benchmark's name: "C64_H56_K256_R1_S1_stride1_pad0" for a convolution
// (W is added after H where it differs; "_accumulate" where a backward-data adds into dx),
// "C256_H56" for batch norm (fused or not), ReLU and add (with "_inplace" where the output is the input), "C64_H112_R3_stride2_pad1" for max pooling,
// "C2048_H7" for global average pooling.
std::string layer_shape_label(const LayerShape& layer);

}  // namespace r50
