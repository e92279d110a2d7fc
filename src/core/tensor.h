// defines: Layout, Tensor, check_tensor
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"

namespace r50 {

// How a tensor's elements lie in memory. RowMajor is the last dimension fastest (NCHW for
// images); ChannelsLast keeps the logical [N, C, H, W] shape with C fastest (NHWC in memory).
enum class Layout { RowMajor, ChannelsLast };

const char* layout_name(Layout layout);

// A typed view over memory owned elsewhere: a pointer with shape, dtype, layout and device.
// Copying a Tensor copies the view, never the data.
class Tensor {
 public:
  Tensor() = default;
  Tensor(void* data, Shape shape, DType dtype, Device device = Device::cpu(),
         Layout layout = Layout::RowMajor);

  bool defined() const { return data_ != nullptr || shape_.numel() == 0; }
  void* data() const { return data_; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  Layout layout() const { return layout_; }

  int rank() const { return shape_.rank(); }
  std::int64_t dim(int axis) const { return shape_[axis]; }
  std::int64_t numel() const { return shape_.numel(); }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }

  // The data as T*; throws when T is not the tensor's dtype.
  template <typename T>
  T* data_as() const {
    R50_CHECK(dtype_of<T>() == dtype_, "tensor ", str(), " read as ", dtype_name(dtype_of<T>()));
    return static_cast<T*>(data_);
  }

  // The same memory under another shape with as many elements (row-major tensors only).
  Tensor reshape(const Shape& shape) const;
  // Rows [begin, end) of the outermost dimension (images, in either layout).
  Tensor slice(std::int64_t begin, std::int64_t end) const;

  std::string str() const;  // "F32[8, 3, 224, 224] row-major on cpu"

 private:
  void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::F32;
  Device device_;
  Layout layout_ = Layout::RowMajor;
};

// Throws, naming the op, the argument and both shapes, unless `tensor` is a tensor of `dtype`,
// `shape` and `layout` on `device`.
void check_tensor(const Tensor& tensor, const char* op, const char* argument, DType dtype,
                  const Shape& shape, Device device = Device::cpu(), Layout layout = Layout::RowMajor);

// Host memory of a 4-D tensor of `shape` [N, C, H, W] from the other layout into `to`: element
// (n, c, h, w) lies at ((n·C + c)·H + h)·W + w row-major and at ((n·H + h)·W + w)·C + c
// channels-last. Elements of `element_bytes` bytes (1, 2, 4 or 8); src and dst must not overlap.
void transpose_images(const void* src, void* dst, const Shape& shape, std::size_t element_bytes, Layout to);

}  // namespace r50
