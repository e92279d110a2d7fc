#include "ops/cuda/cuda_probe.h"

#include <cuda_runtime_api.h>

namespace r50 {

CudaProbe probe_cuda() {
  CudaProbe probe;
  const cudaError_t status = cudaGetDeviceCount(&probe.device_count);
  if (status != cudaSuccess) {
    probe.device_count = 0;
    probe.why_not = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return probe;
  }
  if (probe.device_count == 0) {
    probe.why_not = "no CUDA device found";
    return probe;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) probe.first_device_name = prop.name;
  return probe;
}

}  // namespace r50
