// defines: CudnnGraphConvolutions
#pragma once

#include <memory>
#include <vector>

#include "memory/allocator.h"
#include "ops/cuda/convolutions.h"

namespace r50 {

// The CUDA backend's convolutions through cuDNN's graph API (cudnn-frontend's graph interface):
// one graph of a single conv_fprop, conv_dgrad or conv_wgrad node per shape, dtype, layout,
// direction and operand alignment, built and planned on first use and cached. The numerics are
// CudnnConvolutions' (IEEE fp32 for F32 tensors unless `tf32`; F16 and BF16 tensors summed in
// fp32; no engine that converts the data to a narrower type), enforced through the engines'
// numerical notes. The engine is the first of cuDNN's heuristics that passes them or, with
// `benchmark`, the fastest of the first candidates, timed. Backward data with `accumulate` runs on
// the legacy API (cudnn_graph.cpp says why), through a CudnnConvolutions this class owns. Its
// cuDNN calls stay in cudnn_graph.cpp. Each call takes its workspace from `allocator` and gives it
// back once the call is enqueued.
class CudnnGraphConvolutions final : public Convolutions {
 public:
  CudnnGraphConvolutions(Allocator& allocator, void* cuda_stream, bool benchmark, bool tf32 = false);
  ~CudnnGraphConvolutions() override;
  CudnnGraphConvolutions(const CudnnGraphConvolutions&) = delete;
  CudnnGraphConvolutions& operator=(const CudnnGraphConvolutions&) = delete;

  void forward(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dParams& params) override;
  void backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx, const Conv2dParams& params,
                     bool accumulate) override;
  void backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw, const Conv2dParams& params) override;

  // The graph API's choices in the order shapes were first seen, then those of the accumulating
  // backward data, whose algorithm names start with "legacy API: ".
  std::vector<ConvAlgorithmChoice> choices() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace r50
