#include "core/shape.h"

#include "core/error.h"

namespace r50 {

Shape::Shape(std::initializer_list<std::int64_t> dims) : Shape(std::vector<std::int64_t>(dims)) {}

Shape::Shape(const std::vector<std::int64_t>& dims) {
  R50_CHECK(dims.size() <= kMaxRank, "a shape has at most ", kMaxRank, " dimensions, got ", dims.size());
  for (std::int64_t dim : dims) {
    R50_CHECK(dim >= 0, "shape dimensions must not be negative, got ", dim);
    dims_[rank_++] = dim;
  }
}

std::int64_t Shape::operator[](int axis) const {
  R50_CHECK(axis >= 0 && axis < rank_, "axis ", axis, " out of range for shape ", str());
  return dims_[axis];
}

std::int64_t Shape::numel() const {
  std::int64_t count = 1;
  for (int axis = 0; axis < rank_; ++axis) count *= dims_[axis];
  return count;
}

std::string Shape::str() const {
  std::string text = "[";
  for (int axis = 0; axis < rank_; ++axis) {
    if (axis) text += ", ";
    text += std::to_string(dims_[axis]);
  }
  return text + "]";
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int axis = 0; axis < rank_; ++axis) {
    if (dims_[axis] != other.dims_[axis]) return false;
  }
  return true;
}

}  // namespace r50
