// defines: ConvDirection, ConvAlgorithmChoice, CudnnConvolutions, cudnn_compiled_version,
//          cudnn_loaded_version
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "memory/allocator.h"
#include "ops/backend.h"

namespace r50 {

enum class ConvDirection { Forward, BackwardData, BackwardFilter };
const char* conv_direction_name(ConvDirection direction);

// The algorithm cuDNN runs for one convolution shape, dtype, layout and direction, for reports.
struct ConvAlgorithmChoice {
  ConvDirection direction;
  Shape x, w;
  DType dtype;                       // of x, w and y alike
  Layout layout = Layout::RowMajor;  // of x, w and y alike: NCHW, or NHWC with w KRSC
  Conv2dParams params;
  std::string algorithm;      // "IMPLICIT_PRECOMP_GEMM", "WINOGRAD_NONFUSED", ...
  std::size_t workspace_bytes;
  float search_ms;            // the timed candidate's time under --cudnn-benchmark; 0 otherwise
};

// Every convolution of the CUDA backend, through cuDNN (its legacy descriptor API), on row-major
// (NCHW) or channels-last (NHWC, filters KRSC) tensors, one layout per call. F32 tensors run with
// CUDNN_FMA_MATH: IEEE fp32, no TF32; or, asked for, TF32 on tensor cores. F16 and BF16 tensors
// run on tensor cores with fp32 sums. This class and cudnn_conv.cpp are the only places that see
// cuDNN. An algorithm is chosen once per shape, dtype, layout and direction, by cuDNN's heuristics
// or, with `benchmark`, by timing the candidates, and cached with its descriptors. Each call takes
// its workspace from `allocator` and gives it back once the call is enqueued.
class CudnnConvolutions {
 public:
  // `tf32`: cuDNN's tensor-op math for F32 tensors (compute capability 8.0 and newer); it does not
  // concern F16 and BF16 tensors.
  CudnnConvolutions(Allocator& allocator, void* cuda_stream, bool benchmark, bool tf32 = false);
  ~CudnnConvolutions();
  CudnnConvolutions(const CudnnConvolutions&) = delete;
  CudnnConvolutions& operator=(const CudnnConvolutions&) = delete;

  // Shapes and layouts are checked by the caller (op_checks.h).
  void forward(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dParams& params);
  // With `accumulate`, dx += the result (cuDNN's beta = 1).
  void backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx, const Conv2dParams& params,
                     bool accumulate);
  void backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw, const Conv2dParams& params);

  std::vector<ConvAlgorithmChoice> choices() const;  // in the order shapes were first seen

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::int64_t cudnn_compiled_version();  // CUDNN_VERSION of the headers built with
std::int64_t cudnn_loaded_version();    // cudnnGetVersion() of the library loaded

}  // namespace r50
