#include "layer_report.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "report/text_table.h"

namespace r50 {
namespace {

std::string ms(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", value);
  return text;
}

std::string share(double part, double whole) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", whole > 0 ? 100.0 * part / whole : 0.0);
  return text;
}

}  // namespace

std::string layer_profile_table(const LayerProfile& profile, std::size_t slowest) {
  const double step = profile.step_ms;
  TextTable layers({"layer", "forward ms", "backward ms", "total ms", "share of step"});
  for (const LayerTime& layer : profile.slowest(slowest)) {
    layers.add_row({layer.layer, ms(layer.forward_ms), ms(layer.backward_ms), ms(layer.total_ms()),
                    share(layer.total_ms(), step)});
  }
  TextTable totals({"all " + std::to_string(profile.layers.size()) + " layers", "ms", "share of step"});
  totals.add_row({"forward (with the loss)", ms(profile.forward_ms()), share(profile.forward_ms(), step)});
  totals.add_row({"backward (with the optimizer)", ms(profile.backward_ms()), share(profile.backward_ms(), step)});
  totals.add_row({"between layers", ms(profile.unaccounted_ms()), share(profile.unaccounted_ms(), step)});
  totals.add_row({"step", ms(step), "100%"});
  return "the " + std::to_string(std::min(slowest, profile.layers.size())) +
         " slowest layers, device time per step (mean of " + std::to_string(profile.steps) +
         " profiled steps):\n" + layers.str() + "\n" + totals.str();
}

std::string layer_profile_json(const LayerProfile& profile) {
  nlohmann::ordered_json json;
  json["steps"] = profile.steps;
  json["step_ms"] = profile.step_ms;
  json["forward_ms"] = profile.forward_ms();
  json["backward_ms"] = profile.backward_ms();
  json["unaccounted_ms"] = profile.unaccounted_ms();
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const LayerTime& layer : profile.layers) {
    layers.push_back({{"layer", layer.layer}, {"forward_ms", layer.forward_ms}, {"backward_ms", layer.backward_ms}});
  }
  json["layers"] = std::move(layers);
  return json.dump(2);
}

}  // namespace r50
