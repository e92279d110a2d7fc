// defines: roofline_summary
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "layer_benchmarks.h"

namespace r50 {

// For a person: the `rows` measured layer ops that lose the most device time per training step
// against their roofline, that is ms per step × (1 − fraction of the roofline): a slow op that a
// step calls often comes before a slower one it calls once. Each with its calls per step, ms per
// step, rate (TFLOP/s for convolutions, GB/s for the rest), fraction of the roofline and the ms it
// loses; then the totals over every measured op. Empty when nothing was measured.
std::string roofline_summary(const std::vector<LayerResult>& results, std::size_t rows = 10);

}  // namespace r50
