// defines: R50_CUBLAS_CHECK
#pragma once

#include <cublas_v2.h>

#include "core/error.h"

// Runs a cuBLAS call; a failure throws r50::Error naming the call, the status, file and line.
#define R50_CUBLAS_CHECK(call)                                                           \
  do {                                                                                   \
    const cublasStatus_t r50_status_ = (call);                                           \
    if (r50_status_ != CUBLAS_STATUS_SUCCESS)                                            \
      R50_THROW(#call, " failed: ", cublasGetStatusName(r50_status_), " (",              \
                cublasGetStatusString(r50_status_), ")");                                \
  } while (0)
