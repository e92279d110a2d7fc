// defines: F32Staging
#pragma once

#include <deque>
#include <utility>
#include <vector>

#include "memory/buffer.h"

namespace r50 {

// The CPU backend's ops compute on F32 tensors. A call with F16 or BF16 tensors (backend.h,
// Dtypes) runs the same op on F32 copies of its inputs and rounds its outputs into their half
// tensors at the end: what a GPU kernel that loads half values, computes in fp32 and stores
// rounded does, up to the order of its sums. Copies come from the backend's allocator.
class F32Staging {
 public:
  explicit F32Staging(Allocator& allocator) : allocator_(allocator) {}

  // `tensor` itself where it is F32 or undefined; else an F32 tensor holding its values.
  Tensor input(const Tensor& tensor);
  // `tensor` itself where it is F32 or undefined; else F32 scratch that finish() rounds into it.
  Tensor output(const Tensor& tensor);
  // Both: an output that the op also reads (an accumulating convolution's dx).
  Tensor input_output(const Tensor& tensor);
  // Rounds every staged output into its tensor.
  void finish();

 private:
  Tensor stage(const Tensor& tensor, bool read, bool written);

  Allocator& allocator_;
  std::deque<OwnedTensor> scratch_;
  std::vector<std::pair<Tensor, Tensor>> outputs_;  // (F32 scratch, the half tensor it goes to)
};

}  // namespace r50
