#include "ops/cpu/f32_staging.h"

#include "core/half.h"

namespace r50 {

Tensor F32Staging::stage(const Tensor& tensor, bool read, bool written) {
  if (!tensor.defined() || tensor.dtype() == DType::F32) return tensor;
  scratch_.emplace_back(allocator_, tensor.shape(), DType::F32, tensor.device());
  const Tensor staged = scratch_.back().tensor();
  if (read) floats_from(tensor.data(), tensor.dtype(), tensor.numel(), staged.data_as<float>());
  if (written) outputs_.emplace_back(staged, tensor);
  return staged;
}

Tensor F32Staging::input(const Tensor& tensor) { return stage(tensor, true, false); }

Tensor F32Staging::output(const Tensor& tensor) { return stage(tensor, false, true); }

Tensor F32Staging::input_output(const Tensor& tensor) { return stage(tensor, true, true); }

void F32Staging::finish() {
  for (const auto& [staged, destination] : outputs_) {
    floats_into(staged.data_as<float>(), staged.numel(), destination.data(), destination.dtype());
  }
  outputs_.clear();
}

}  // namespace r50
