#include "ops/cpu/f32_staging.h"

#include <cstdint>

#include "core/half.h"

namespace r50 {
bool F32Staging::needed(const Tensor& tensor, Order order) {
  return tensor.defined() &&
         (tensor.dtype() != DType::F32 || (order == Order::RowMajor && tensor.layout() != Layout::RowMajor));
}

Tensor F32Staging::stage(const Tensor& tensor, bool read, bool written) {
  if (!needed(tensor, order_)) return tensor;
  const bool transposed = order_ == Order::RowMajor && tensor.layout() != Layout::RowMajor;
  const Layout layout = transposed ? Layout::RowMajor : tensor.layout();
  scratch_.emplace_back(allocator_, tensor.shape(), DType::F32, tensor.device(), layout);
  const Tensor staged = scratch_.back().tensor();
  if (read) {
    if (transposed) {
      std::vector<float> values(static_cast<std::size_t>(tensor.numel()));
      floats_from(tensor.data(), tensor.dtype(), tensor.numel(), values.data());
      transpose_images(values.data(), staged.data(), tensor.shape(), sizeof(float), Layout::RowMajor);
    } else {
      floats_from(tensor.data(), tensor.dtype(), tensor.numel(), staged.data_as<float>());
    }
  }
  if (written) outputs_.emplace_back(staged, tensor);
  return staged;
}

Tensor F32Staging::input(const Tensor& tensor) { return stage(tensor, true, false); }

Tensor F32Staging::output(const Tensor& tensor) { return stage(tensor, false, true); }

Tensor F32Staging::input_output(const Tensor& tensor) { return stage(tensor, true, true); }

void F32Staging::finish() {
  for (const auto& [staged, destination] : outputs_) {
    if (staged.layout() != destination.layout()) {
      std::vector<float> values(static_cast<std::size_t>(staged.numel()));
      transpose_images(staged.data(), values.data(), staged.shape(), sizeof(float), Layout::ChannelsLast);
      floats_into(values.data(), staged.numel(), destination.data(), destination.dtype());
    } else {
      floats_into(staged.data_as<float>(), staged.numel(), destination.data(), destination.dtype());
    }
  }
  outputs_.clear();
}

}  // namespace r50
