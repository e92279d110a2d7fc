// defines: R50_CUDNN_CHECK, r50::make_cudnn_handle
#pragma once

#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "core/error.h"

// Runs a cuDNN call; a failure throws r50::Error naming the call, the status, file and line. For
// cudnn_conv.cpp and cudnn_graph.cpp, the two translation units that see cuDNN.
#define R50_CUDNN_CHECK(call)                                                              \
  do {                                                                                     \
    const cudnnStatus_t r50_status_ = (call);                                              \
    if (r50_status_ != CUDNN_STATUS_SUCCESS)                                               \
      R50_THROW(#call, " failed: ", cudnnGetErrorString(r50_status_));                     \
  } while (0)

namespace r50 {

// A cuDNN handle whose work goes to `stream`; one that cannot be set to it is destroyed again
// before the throw, since no destructor will run for a half-made owner.
inline cudnnHandle_t make_cudnn_handle(cudaStream_t stream) {
  cudnnHandle_t handle = nullptr;
  R50_CUDNN_CHECK(cudnnCreate(&handle));
  const cudnnStatus_t status = cudnnSetStream(handle, stream);
  if (status != CUDNN_STATUS_SUCCESS) {
    cudnnDestroy(handle);
    R50_THROW("cudnnSetStream failed: ", cudnnGetErrorString(status));
  }
  return handle;
}

}  // namespace r50
