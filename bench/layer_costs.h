// defines: DevicePeaks, layer_flops, layer_min_bytes, roofline_ms
#pragma once

#include "layer_shapes.h"

namespace r50 {

// What this card was measured to do at start-up: its matrix rate (a large SGEMM) and its memory
// bandwidth (a large device-to-device copy).
struct DevicePeaks {
  double tflops = 0;
  double gb_per_s = 0;
};

// Floating-point operations of one call: 2·N·K·P·Q·C·R·S for each convolution direction (the
// forward's multiply-adds, each of which appears once in either backward, whatever the stride);
// 0 for the other ops, which are bound by memory. This is the direct algorithm's count, the usual
// convention: where cuDNN picks Winograd (3×3, stride 1), which multiplies less, the rate it
// implies can pass the SGEMM peak.
double layer_flops(const LayerShape& layer);

// The fewest bytes one call must move between device memory and the chip, in elements of the
// layer's dtype (4 bytes for F32, 2 for F16 and BF16), with the per-channel vectors (batch-norm
// statistics, gamma, beta) left out, as they are C values against N·C·H·W. The formula for each op
// is in layer_costs.cpp.
double layer_min_bytes(const LayerShape& layer);

// The shortest time one call could take on this card: its flops at the matrix peak or its bytes at
// the measured bandwidth, whichever is longer (the roofline).
double roofline_ms(const LayerShape& layer, const DevicePeaks& peaks);

}  // namespace r50
