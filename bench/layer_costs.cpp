#include "layer_costs.h"

#include <algorithm>

namespace r50 {
namespace {

bool is_convolution(LayerOp op) {
  return op == LayerOp::ConvForward || op == LayerOp::ConvBackwardData || op == LayerOp::ConvBackwardFilter;
}

}  // namespace

double layer_flops(const LayerShape& layer) {
  if (!is_convolution(layer.op)) return 0;
  const Shape y = conv2d_output_shape(layer.x, layer.w, layer.conv);
  // Each of the N·K·P·Q outputs sums C·R·S products.
  return 2.0 * static_cast<double>(y.numel()) * static_cast<double>(layer.w[1] * layer.w[2] * layer.w[3]);
}

double layer_min_bytes(const LayerShape& layer) {
  const auto bytes_of = [&](const Shape& shape) {
    return static_cast<double>(dtype_size(layer.dtype)) * static_cast<double>(shape.numel());
  };
  const double x = bytes_of(layer.x);
  switch (layer.op) {
    case LayerOp::ConvForward:         // reads x and w, writes y
    case LayerOp::ConvBackwardData:    // reads dy and w, writes dx (and reads it first, accumulating)
    case LayerOp::ConvBackwardFilter:  // reads x and dy, writes dw
      return x + bytes_of(layer.w) + bytes_of(conv2d_output_shape(layer.x, layer.w, layer.conv)) +
             (layer.accumulate ? x : 0);
    case LayerOp::BatchNormForward:
      // No y can be written before the statistics have seen all of x, and at ResNet-50's sizes x
      // does not stay on the chip between the two passes: x is read twice, y written once. (Where
      // x fits in the L2 cache, the second read can beat this, and the fraction exceed 1.)
      return 3 * x;
    case LayerOp::BatchNormBackward:
      // The same two passes: x and dy read for the per-channel sums of dy and dy·x̂, then x and dy
      // read again and dx written.
      return 5 * x;
    case LayerOp::BatchNormReluForward: return 3 * x;  // as batch norm: the ReLU is applied on the way out
    case LayerOp::BatchNormAddReluForward: return 4 * x;  // and the residual read once
    case LayerOp::BatchNormReluBackward:
      // As batch norm's backward: where the ReLU passed is recomputed from x in both passes.
      return 5 * x;
    case LayerOp::BatchNormAddReluBackward:
      // Where the ReLU passed is read from y in both passes (x alone no longer tells), and the
      // gradient at the sum is written for the shortcut as well as dx.
      return 8 * x;
    case LayerOp::ReluForward: return 2 * x;  // reads x, writes y (the same bytes when in place)
    case LayerOp::ReluBackward: return 3 * x;  // reads y and dy, writes dx
    case LayerOp::Add: return 3 * x;           // reads a and b, writes y
    case LayerOp::MaxPoolForward: {
      const double y = bytes_of(max_pool2d_output_shape(layer.x, layer.pool));
      return x + y;  // reads x, writes y
    }
    case LayerOp::MaxPoolBackward: {
      const double y = bytes_of(max_pool2d_output_shape(layer.x, layer.pool));
      return 2 * x + 2 * y;  // reads x, y and dy (to find each window's maximum), writes all of dx
    }
    case LayerOp::GlobalAvgPoolForward:   // reads x, writes y [N, C]
    case LayerOp::GlobalAvgPoolBackward:  // reads dy [N, C], writes dx
      return x + bytes_of({layer.x[0], layer.x[1]});
  }
  return 0;
}

double roofline_ms(const LayerShape& layer, const DevicePeaks& peaks) {
  const double compute_ms = peaks.tflops > 0 ? layer_flops(layer) / (peaks.tflops * 1e9) : 0;
  const double memory_ms = peaks.gb_per_s > 0 ? layer_min_bytes(layer) / (peaks.gb_per_s * 1e6) : 0;
  return std::max(compute_ms, memory_ms);
}

}  // namespace r50
