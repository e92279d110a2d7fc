// defines: VerifyOptions, verify_step, run_verification
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/safetensors.h"
#include "model/layers.h"
#include "ops/backend.h"

namespace r50 {

// What resnet50_verify does: one forward and backward of ResNet-50 on given weights and input,
// without updating any parameter, so that anyone can compare it with PyTorch tensor by tensor.
struct VerifyOptions {
  std::string weights_path;  // a torchvision resnet50 state_dict
  std::string input_path;    // images F32 [N, 3, H, W] (normalised), labels I64 or I32 [N]
  std::string output_path;
  BatchNormMode bn_mode = BatchNormMode::BatchStatistics;
  std::optional<int> classes;  // default: the rows of fc.weight
  DType compute_dtype = DType::F32;  // F16 or BF16: mixed precision (verify_step)
  Layout layout = Layout::RowMajor;  // ChannelsLast: activations and convolution weights NHWC
};

using NamedTensors = std::vector<std::pair<std::string, StoredTensor>>;

// The results, under the names PyTorch users know: "logits", "loss" [1], "grad/<parameter>" and,
// under batch statistics, "state/<buffer>" for the updated running statistics and counters.
// Bad weights or input throw, naming the file and the tensor. With a half-precision
// `compute_dtype` the model runs mixed precision (ResNet50); logits and gradients still come out
// F32, the gradients divided by the loss scale, as torch.autocast and GradScaler give them. With
// a ChannelsLast `layout` the model keeps activations and convolution weights NHWC; weights and
// input go in, and results come out, in torchvision's NCHW order all the same.
NamedTensors verify_step(Backend& backend, const SafetensorsFile& weights, const SafetensorsFile& input,
                         BatchNormMode bn_mode, std::optional<int> classes, DType compute_dtype = DType::F32,
                         Layout layout = Layout::RowMajor);

// Reads the files, runs verify_step and writes the results (atomically). Returns them.
NamedTensors run_verification(Backend& backend, const VerifyOptions& options);

}  // namespace r50
