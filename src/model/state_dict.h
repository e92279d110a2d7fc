// defines: load_state_dict, state_dict, to_stored
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "model/resnet50.h"
#include "model/safetensors.h"

namespace r50 {

// Copies every state_dict entry of the model from `file` (torchvision's names, F32 parameters and
// running statistics, I64 scalar num_batches_tracked). A tensor missing from the file, one the
// model does not have, or one of the wrong dtype or shape throws, naming the file and the tensor.
void load_state_dict(ResNet50& model, const SafetensorsFile& file);

// The model's state_dict on the host, in torchvision's order, ready for write_safetensors.
std::vector<std::pair<std::string, StoredTensor>> state_dict(const ResNet50& model);

// A device tensor copied to the host, in NCHW order whatever its layout.
StoredTensor to_stored(Backend& backend, const Tensor& tensor);
// One state_dict entry copied to the host (a batch counter becomes an I64 scalar).
StoredTensor to_stored(Backend& backend, const StateEntry& entry);

}  // namespace r50
