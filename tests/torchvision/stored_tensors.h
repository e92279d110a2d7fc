// defines: as_doubles, ErrorSums, relative_error, read_all, reference_dir
// What the comparisons with torchvision share: stored tensors as doubles, the relative error
// ‖a − b‖₂ / ‖b‖₂, and the files scripts/make_reference.py wrote.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "model/safetensors.h"

namespace r50 {

inline std::vector<double> as_doubles(const StoredTensor& tensor) {
  std::vector<double> values(static_cast<std::size_t>(tensor.shape.numel()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (tensor.dtype == DType::F64) {
      std::memcpy(&values[i], tensor.bytes.data() + i * 8, 8);
    } else if (tensor.dtype == DType::F32) {
      float value;
      std::memcpy(&value, tensor.bytes.data() + i * 4, 4);
      values[i] = value;
    } else {
      std::int64_t value;
      std::memcpy(&value, tensor.bytes.data() + i * 8, 8);
      values[i] = static_cast<double>(value);
    }
  }
  return values;
}

struct ErrorSums {
  double difference = 0, reference = 0;
  void add(const std::vector<double>& a, const std::vector<double>& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      difference += (a[i] - b[i]) * (a[i] - b[i]);
      reference += b[i] * b[i];
    }
  }
  double relative() const { return reference > 0 ? std::sqrt(difference / reference) : std::sqrt(difference); }
};

inline double relative_error(const StoredTensor& a, const StoredTensor& b) {
  ErrorSums sums;
  sums.add(as_doubles(a), as_doubles(b));
  return sums.relative();
}

inline std::map<std::string, StoredTensor> read_all(const std::string& path) {
  const SafetensorsFile file = read_safetensors(path);
  std::map<std::string, StoredTensor> tensors;
  for (const std::string& name : file.names()) tensors[name] = file.at(name);
  return tensors;
}

// R50_REFERENCE_DIR: where ctest has make_reference.py write; "" when unset.
inline std::string reference_dir() {
  const char* dir = std::getenv("R50_REFERENCE_DIR");
  return dir ? dir : "";
}

}  // namespace r50
