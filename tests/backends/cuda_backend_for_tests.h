// defines: cuda
#pragma once

#include <memory>

#include "ops/backend.h"

namespace r50 {

// The CUDA backend on GPU 0, created on first use and shared by every test of the binary (one
// definition across its files, as an inline function's static is). Call it only after
// R50_REQUIRE_GPU_OR_SKIP(): without a GPU, creating it throws.
inline Backend& cuda() {
  static const std::unique_ptr<Backend> backend = make_cuda_backend({});
  return *backend;
}

}  // namespace r50
