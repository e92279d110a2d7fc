// defines: cuda
#pragma once

#include <map>
#include <memory>
#include <utility>

#include "ops/backend.h"

namespace r50 {

// The CUDA backend on GPU 0, created on first use and shared by every test of the binary (one
// definition across its files, as an inline function's static is). Call it only after
// R50_REQUIRE_GPU_OR_SKIP(): without a GPU, creating it throws.
inline Backend& cuda() {
  static const std::unique_ptr<Backend> backend = make_cuda_backend({});
  return *backend;
}

// The same at `precision`, its convolutions on `cudnn_api`: one backend per combination, kept as
// cuda()'s is (cuda() itself for the legacy API at fp32). tf32 needs compute capability 8.0.
inline Backend& cuda(CudnnApi cudnn_api, Precision precision = Precision::Fp32) {
  if (cudnn_api == CudnnApi::Legacy && precision == Precision::Fp32) return cuda();
  static std::map<std::pair<CudnnApi, Precision>, std::unique_ptr<Backend>> backends;
  std::unique_ptr<Backend>& backend = backends[{cudnn_api, precision}];
  if (!backend) {
    CudaBackendOptions options;
    options.precision = precision;
    options.cudnn_api = cudnn_api;
    backend = make_cuda_backend(options);
  }
  return *backend;
}

}  // namespace r50
