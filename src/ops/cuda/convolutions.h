// defines: ConvDirection, conv_direction_name, ConvAlgorithmChoice, Convolutions
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ops/backend.h"

namespace r50 {

enum class ConvDirection { Forward, BackwardData, BackwardFilter };

inline const char* conv_direction_name(ConvDirection direction) {
  switch (direction) {
    case ConvDirection::Forward: return "forward";
    case ConvDirection::BackwardData: return "backward_data";
    case ConvDirection::BackwardFilter: return "backward_filter";
  }
  return "unknown";
}

// The algorithm cuDNN runs for one convolution shape, dtype, layout and direction, for reports.
struct ConvAlgorithmChoice {
  ConvDirection direction;
  Shape x, w;
  DType dtype;                       // of x, w and y alike
  Layout layout = Layout::RowMajor;  // of x, w and y alike: NCHW, or NHWC with w KRSC
  Conv2dParams params;
  std::string algorithm;      // "IMPLICIT_PRECOMP_GEMM", "WINOGRAD_NONFUSED", a graph engine's name, ...
  std::size_t workspace_bytes;
  float search_ms;            // the timed candidate's time under --cudnn-benchmark; 0 otherwise
};

// The CUDA backend's convolutions, whichever cuDNN API runs them: the legacy descriptor API
// (CudnnConvolutions, cudnn_conv.h) or the graph API (CudnnGraphConvolutions, cudnn_graph.h).
// Both take F32, F16 or BF16 tensors, NCHW or NHWC (filters KRSC), with the same numerics
// (IEEE fp32 unless TF32 is asked for; half data summed in fp32), choose an algorithm once per
// shape, dtype, layout and direction, and take their workspace from the backend's allocator for
// the length of one call. Shapes and layouts are checked by the caller (op_checks.h).
class Convolutions {
 public:
  virtual ~Convolutions() = default;

  virtual void forward(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dParams& params) = 0;
  // With `accumulate`, dx += the result.
  virtual void backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx, const Conv2dParams& params,
                             bool accumulate) = 0;
  virtual void backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                               const Conv2dParams& params) = 0;

  virtual std::vector<ConvAlgorithmChoice> choices() const = 0;
};

}  // namespace r50
