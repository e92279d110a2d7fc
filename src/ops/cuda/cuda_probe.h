// defines: CudaProbe, probe_cuda
#pragma once

#include <string>

namespace r50 {

// Whether a CUDA device answers, asked without throwing: `why_not` says what failed when none does
// (no driver, no device, a driver older than the runtime).
struct CudaProbe {
  int device_count = 0;
  std::string first_device_name;
  std::string why_not;
};

CudaProbe probe_cuda();

}  // namespace r50
