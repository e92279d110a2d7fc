// defines: ModelConvolution, model_convolutions, distinct_convolutions
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "layer_shapes.h"
#include "model/resnet50.h"
#include "recording_backend.h"

namespace r50 {

// A convolution of ResNet-50 as the model's state names it, with the input it sees.
struct ModelConvolution {
  std::string name;  // "layer2.0.conv2.weight"
  Shape x, w;
  int stride, padding;
};

// Every convolution, read off the model's own state rather than traced: each rank-4 "*.weight" in
// state_dict order, with the stride torchvision gives it (2 for conv1, and for conv2 and
// downsample.0 in the first block of layer2, layer3 and layer4), padding R/2, and the input size
// that follows from the strides before it and the stem's max pool (3×3, stride 2, padding 1).
inline std::vector<ModelConvolution> model_convolutions(int batch, int image_size) {
  RecordingBackend backend;
  const ResNet50 model(backend, 1000);
  std::vector<ModelConvolution> convolutions;
  std::int64_t size = image_size, block_input = image_size;
  for (const StateEntry& entry : model.state()) {
    const Shape& w = entry.tensor.shape();
    if (entry.kind != StateEntry::Kind::Parameter || w.rank() != 4) continue;
    int layer = 0, block = 0;
    char part[32] = {};
    const bool in_block = std::sscanf(entry.name.c_str(), "layer%d.%d.%31[a-z0-9.]", &layer, &block, part) == 3;
    const std::string conv = in_block ? part : "stem";
    const bool first_strided = in_block && layer >= 2 && block == 0;
    const bool strided = first_strided && (conv == "conv2.weight" || conv == "downsample.0.weight");
    const int stride = conv == "stem" || strided ? 2 : 1;
    const int padding = static_cast<int>(w[2] / 2);
    if (conv == "conv1.weight") block_input = size;
    const std::int64_t input = conv == "downsample.0.weight" ? block_input : size;
    convolutions.push_back({entry.name, {batch, w[1], input, input}, w, stride, padding});
    if (conv == "downsample.0.weight") continue;  // the main path's size is already the block's output
    size = conv_output_size(input, w[2], stride, padding);
    if (conv == "stem") size = conv_output_size(size, 3, 2, 1);
  }
  return convolutions;
}

// The distinct (x, w, stride, padding) among `convolutions`, leaving out those named `except`.
inline std::vector<ModelConvolution> distinct_convolutions(const std::vector<ModelConvolution>& convolutions,
                                                           const std::string& except = "") {
  std::vector<ModelConvolution> distinct;
  for (const ModelConvolution& c : convolutions) {
    if (c.name == except) continue;
    bool seen = false;
    for (const ModelConvolution& d : distinct) {
      seen = seen || (d.x == c.x && d.w == c.w && d.stride == c.stride && d.padding == c.padding);
    }
    if (!seen) distinct.push_back(c);
  }
  return distinct;
}

}  // namespace r50
