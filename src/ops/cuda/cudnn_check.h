// defines: R50_CUDNN_CHECK
#pragma once

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
