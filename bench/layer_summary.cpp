#include "layer_summary.h"

#include <algorithm>
#include <cstdio>

#include "report/text_table.h"

namespace r50 {
namespace {

std::string format(const char* pattern, double value) {
  char text[48];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

double lost_ms_per_step(const LayerResult& result) {
  return std::max(0.0, result.ms_per_step() - result.roofline_ms * result.layer.calls_per_step);
}

// Three significant digits, without an exponent: from a CPU's 0.0123 TFLOP/s to a GPU's 3350 GB/s.
std::string figure(double value) { return format(value >= 100 ? "%.0f" : "%.3g", value); }

std::string rate(const LayerResult& result) {
  const double flops = layer_flops(result.layer);
  if (flops > 0) return figure(flops / (result.ms_per_call * 1e9)) + " TFLOP/s";
  return figure(layer_min_bytes(result.layer) / (result.ms_per_call * 1e6)) + " GB/s";
}

}  // namespace

std::string roofline_summary(const std::vector<LayerResult>& results, std::size_t rows) {
  std::vector<const LayerResult*> measured;
  double step_ms = 0, roofline_step_ms = 0;
  for (const LayerResult& result : results) {
    if (!result.measured) continue;
    measured.push_back(&result);
    step_ms += result.ms_per_step();
    roofline_step_ms += result.roofline_ms * result.layer.calls_per_step;
  }
  if (measured.empty()) return "";
  std::stable_sort(measured.begin(), measured.end(), [](const LayerResult* a, const LayerResult* b) {
    return lost_ms_per_step(*a) > lost_ms_per_step(*b);
  });
  const std::size_t shown = std::min(rows, measured.size());
  TextTable table({"layer", "calls/step", "ms/step", "rate", "of roofline", "ms lost/step"});
  for (std::size_t i = 0; i < shown; ++i) {
    const LayerResult& result = *measured[i];
    table.add_row({result.name, std::to_string(result.layer.calls_per_step), format("%.3f", result.ms_per_step()),
                   rate(result), format("%.0f%%", 100.0 * result.fraction_of_roofline()),
                   format("%.3f", lost_ms_per_step(result))});
  }
  return "the " + std::to_string(shown) + " layers furthest below their roofline, by device time lost per " +
         "training step:\n" + table.str() + "all " + std::to_string(measured.size()) + " measured: " +
         format("%.3f", step_ms) + " ms per step, " + format("%.3f", roofline_step_ms) + " ms at the roofline\n";
}

}  // namespace r50
