#include "model/state_dict.h"

#include <cstring>
#include <unordered_set>

namespace r50 {

void load_state_dict(ResNet50& model, const SafetensorsFile& file) {
  std::unordered_set<std::string> expected;
  for (const StateEntry& entry : model.state()) {
    expected.insert(entry.name);
    if (entry.kind == StateEntry::Kind::BatchCounter) {
      const StoredTensor& stored = file.expect(entry.name, DType::I64, Shape{});
      std::memcpy(entry.counter, stored.bytes.data(), sizeof(std::int64_t));
    } else {
      const StoredTensor& stored = file.expect(entry.name, DType::F32, entry.tensor.shape());
      copy_from_host_nchw(model.backend(), entry.tensor, stored.bytes.data());
    }
  }
  for (const std::string& name : file.names()) {
    R50_CHECK(expected.count(name), file.path(), ": tensor '", name,
              "' is not part of ResNet-50 with ", model.num_classes(), " classes");
  }
  for (Parameter* parameter : model.parameters()) parameter->momentum_initialized = false;
  model.refresh_compute_copies();
}

StoredTensor to_stored(Backend& backend, const Tensor& tensor) {
  StoredTensor stored = make_stored(tensor.dtype(), tensor.shape());
  copy_to_host_nchw(backend, stored.bytes.data(), tensor);
  return stored;
}

StoredTensor to_stored(Backend& backend, const StateEntry& entry) {
  if (entry.kind != StateEntry::Kind::BatchCounter) return to_stored(backend, entry.tensor);
  StoredTensor stored = make_stored(DType::I64, Shape{});
  std::memcpy(stored.bytes.data(), entry.counter, sizeof(std::int64_t));
  return stored;
}

std::vector<std::pair<std::string, StoredTensor>> state_dict(const ResNet50& model) {
  std::vector<std::pair<std::string, StoredTensor>> result;
  for (const StateEntry& entry : model.state()) {
    result.emplace_back(entry.name, to_stored(model.backend(), entry));
  }
  return result;
}

}  // namespace r50
