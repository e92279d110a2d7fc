// defines: CudnnConvolutions, cudnn_compiled_version, cudnn_loaded_version
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "memory/allocator.h"
#include "ops/cuda/convolutions.h"

namespace r50 {

// Every convolution of the CUDA backend, through cuDNN (its legacy descriptor API), on row-major
// (NCHW) or channels-last (NHWC, filters KRSC) tensors, one layout per call. F32 tensors run with
// CUDNN_FMA_MATH: IEEE fp32, no TF32; or, asked for, TF32 on tensor cores. F16 and BF16 tensors
// run on tensor cores with fp32 sums. Its cuDNN calls stay in cudnn_conv.cpp (the graph API's in
// cudnn_graph.cpp). An algorithm is chosen once per shape, dtype, layout and direction, by
// cuDNN's heuristics or, with `benchmark`, by timing the candidates, and cached with its
// descriptors. Each call takes its workspace from `allocator` and gives it back once the call is
// enqueued.
class CudnnConvolutions final : public Convolutions {
 public:
  // `tf32`: cuDNN's tensor-op math for F32 tensors (compute capability 8.0 and newer); it does not
  // concern F16 and BF16 tensors.
  CudnnConvolutions(Allocator& allocator, void* cuda_stream, bool benchmark, bool tf32 = false);
  ~CudnnConvolutions() override;
  CudnnConvolutions(const CudnnConvolutions&) = delete;
  CudnnConvolutions& operator=(const CudnnConvolutions&) = delete;

  void forward(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dParams& params) override;
  // With `accumulate`, dx += the result (cuDNN's beta = 1).
  void backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx, const Conv2dParams& params,
                     bool accumulate) override;
  void backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw, const Conv2dParams& params) override;

  std::vector<ConvAlgorithmChoice> choices() const override;  // in the order shapes were first seen

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::int64_t cudnn_compiled_version();  // CUDNN_VERSION of the headers built with
std::int64_t cudnn_loaded_version();    // cudnnGetVersion() of the library loaded

}  // namespace r50
