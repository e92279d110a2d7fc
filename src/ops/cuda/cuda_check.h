// defines: R50_CUDA_CHECK, cuda_error_message
#pragma once

#include <cuda_runtime_api.h>

#include "core/error.h"

// Runs a CUDA runtime call; a failure throws r50::Error naming the call, the error, file and line.
#define R50_CUDA_CHECK(call)                                                             \
  do {                                                                                   \
    const cudaError_t r50_status_ = (call);                                              \
    if (r50_status_ != cudaSuccess)                                                      \
      R50_THROW(#call, " failed: ", cudaGetErrorName(r50_status_), " (",                 \
                cudaGetErrorString(r50_status_), ")");                                   \
  } while (0)
