#include "core/tensor.h"

#include <cstdint>

namespace r50 {

const char* layout_name(Layout layout) {
  return layout == Layout::RowMajor ? "row-major" : "channels-last";
}

Tensor::Tensor(void* data, Shape shape, DType dtype, Device device, Layout layout)
    : data_(data), shape_(shape), dtype_(dtype), device_(device), layout_(layout) {
  R50_CHECK(layout == Layout::RowMajor || shape.rank() == 4,
            "the channels-last layout needs a 4-D tensor, got shape ", shape.str());
}

Tensor Tensor::reshape(const Shape& shape) const {
  R50_CHECK(shape.numel() == numel(), "cannot reshape ", str(), " to ", shape.str());
  R50_CHECK(layout_ == Layout::RowMajor, "cannot reshape ", str(), ": not row-major");
  return Tensor(data_, shape, dtype_, device_, layout_);
}

Tensor Tensor::slice(std::int64_t begin, std::int64_t end) const {
  R50_CHECK(rank() >= 1 && 0 <= begin && begin <= end && end <= dim(0), "slice [", begin, ", ", end,
            ") out of range for ", str());
  std::vector<std::int64_t> dims = shape_.dims();
  const std::size_t row_bytes = dims[0] ? nbytes() / static_cast<std::size_t>(dims[0]) : 0;
  dims[0] = end - begin;
  return Tensor(static_cast<std::byte*>(data_) + begin * row_bytes, Shape(dims), dtype_, device_,
                layout_);
}

namespace {

template <typename Element>
void transpose_elements(const Element* src, Element* dst, const Shape& shape, Layout to) {
  const std::int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t c = 0; c < C; ++c) {
      for (std::int64_t i = 0; i < HW; ++i) {
        const std::int64_t nchw = (n * C + c) * HW + i, nhwc = (n * HW + i) * C + c;
        if (to == Layout::RowMajor) {
          dst[nchw] = src[nhwc];
        } else {
          dst[nhwc] = src[nchw];
        }
      }
    }
  }
}

}  // namespace

void transpose_images(const void* src, void* dst, const Shape& shape, std::size_t element_bytes, Layout to) {
  R50_CHECK(shape.rank() == 4, "transpose_images: shape ", shape.str(), " is not 4-D");
  switch (element_bytes) {
    case 1: return transpose_elements(static_cast<const std::uint8_t*>(src), static_cast<std::uint8_t*>(dst), shape, to);
    case 2: return transpose_elements(static_cast<const std::uint16_t*>(src), static_cast<std::uint16_t*>(dst), shape, to);
    case 4: return transpose_elements(static_cast<const std::uint32_t*>(src), static_cast<std::uint32_t*>(dst), shape, to);
    case 8: return transpose_elements(static_cast<const std::uint64_t*>(src), static_cast<std::uint64_t*>(dst), shape, to);
    default: R50_THROW("transpose_images: elements of ", element_bytes, " bytes");
  }
}

std::string Tensor::str() const {
  return detail::concat(dtype_name(dtype_), shape_.str(), " ", layout_name(layout_), " on ",
                        device_.str());
}

void check_tensor(const Tensor& tensor, const char* op, const char* argument, DType dtype,
                  const Shape& shape, Device device, Layout layout) {
  R50_CHECK(tensor.defined(), op, ": ", argument, " is missing (expected ", dtype_name(dtype),
            shape.str(), ")");
  R50_CHECK(tensor.dtype() == dtype && tensor.shape() == shape, op, ": ", argument, " is ",
            tensor.str(), " but expected ", dtype_name(dtype), shape.str());
  R50_CHECK(tensor.layout() == layout, op, ": ", argument, " is ", tensor.str(), " but expected a ",
            layout_name(layout), " tensor");
  R50_CHECK(tensor.device() == device, op, ": ", argument, " is ", tensor.str(), " but expected it on ",
            device.str());
}

}  // namespace r50
