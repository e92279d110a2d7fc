// defines: layer_profile_table, layer_profile_json
#pragma once

#include <string>

#include "train/layer_profile.h"

namespace r50 {

// --profile-layers for a person: the `slowest` layers by forward and backward time together, each
// with its share of the step, then the totals: every layer's forward, backward (the optimiser
// included), what the marks leave uncovered, and the step.
std::string layer_profile_table(const LayerProfile& profile, std::size_t slowest = 10);

// The same for tools: {"steps", "step_ms", "forward_ms", "backward_ms", "unaccounted_ms",
// "layers": [{"layer", "forward_ms", "backward_ms"}, ...]} with every layer, in forward order.
std::string layer_profile_json(const LayerProfile& profile);

}  // namespace r50
