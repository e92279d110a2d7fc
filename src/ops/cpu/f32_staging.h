// defines: F32Staging
#pragma once

#include <deque>
#include <utility>
#include <vector>

#include "memory/buffer.h"

namespace r50 {

// The CPU backend's ops compute on F32 tensors, and all but the elementwise ones on row-major
// (NCHW) tensors. A call with F16 or BF16 tensors, or with channels-last ones (backend.h, Dtypes
// and Layouts), runs the same op on F32 row-major copies of its inputs and rounds its outputs into
// their tensors at the end: what a GPU kernel that loads half values, computes in fp32 and stores
// rounded does, up to the order of its sums. Copies come from the backend's allocator.
class F32Staging {
 public:
  // Whether copies keep their tensor's element order (elementwise ops, which any layout suits) or
  // become row-major.
  enum class Order { Kept, RowMajor };

  F32Staging(Allocator& allocator, Order order) : allocator_(allocator), order_(order) {}

  // Whether `tensor` needs a copy under `order`: not F32, or channels-last where row-major is due.
  static bool needed(const Tensor& tensor, Order order);

  // `tensor` itself where it needs no copy (or is undefined); else an F32 copy of its values.
  Tensor input(const Tensor& tensor);
  // `tensor` itself where it needs no copy; else F32 scratch that finish() writes into it.
  Tensor output(const Tensor& tensor);
  // Both: an output that the op also reads (an accumulating convolution's dx).
  Tensor input_output(const Tensor& tensor);
  // Writes every staged output into its tensor, rounded to its dtype, in its layout.
  void finish();

 private:
  Tensor stage(const Tensor& tensor, bool read, bool written);

  Allocator& allocator_;
  Order order_;
  std::deque<OwnedTensor> scratch_;
  std::vector<std::pair<Tensor, Tensor>> outputs_;  // (F32 scratch, the tensor it goes to)
};

}  // namespace r50
