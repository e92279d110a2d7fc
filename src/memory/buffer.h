// defines: Buffer, OwnedTensor
#pragma once

#include <cstddef>
#include <utility>

#include "core/tensor.h"
#include "memory/allocator.h"

namespace r50 {

// Memory from an Allocator, returned to it when the Buffer goes away.
class Buffer {
 public:
  Buffer() = default;
  Buffer(Allocator& allocator, std::size_t bytes, Stream stream = {})
      : allocator_(&allocator), data_(bytes ? allocator.allocate(bytes, stream) : nullptr), bytes_(bytes) {}
  ~Buffer() { reset(); }

  Buffer(Buffer&& other) noexcept { *this = std::move(other); }
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      reset();
      allocator_ = std::exchange(other.allocator_, nullptr);
      data_ = std::exchange(other.data_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }

  void reset() {
    if (data_) allocator_->deallocate(data_);
    data_ = nullptr;
    bytes_ = 0;
  }

 private:
  Allocator* allocator_ = nullptr;
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// A tensor together with the memory behind it.
class OwnedTensor {
 public:
  OwnedTensor() = default;
  OwnedTensor(Allocator& allocator, const Shape& shape, DType dtype, Device device,
              Layout layout = Layout::RowMajor)
      : buffer_(allocator, static_cast<std::size_t>(shape.numel()) * dtype_size(dtype)),
        tensor_(buffer_.data(), shape, dtype, device, layout) {}

  const Tensor& tensor() const { return tensor_; }
  operator const Tensor&() const { return tensor_; }  // NOLINT: an owned tensor is a tensor
  const Shape& shape() const { return tensor_.shape(); }
  std::int64_t numel() const { return tensor_.numel(); }

 private:
  Buffer buffer_;
  Tensor tensor_;
};

}  // namespace r50
