#include "memory/cuda_memory.h"

#include <cuda_runtime_api.h>

#include "core/error.h"
#include "memory/direct_allocator.h"

namespace r50 {
namespace {

// The allocation calls act on the calling thread's current device; make it ours for the call.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceScope() { cudaSetDevice(previous_); }  // back to a device that worked a moment ago

 private:
  static void check(cudaError_t status, const char* call) {
    R50_CHECK(status == cudaSuccess, call, " failed: ", cudaGetErrorName(status), " (",
              cudaGetErrorString(status), ")");
  }

  int previous_ = 0;
};

}  // namespace

std::string CudaMemory::name() const { return "cuda:" + std::to_string(device_); }

void* CudaMemory::allocate(std::size_t bytes) {
  DeviceScope scope(device_);
  void* ptr = nullptr;
  const cudaError_t status = cudaMalloc(&ptr, bytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: clear it so that the next call starts clean
    return nullptr;
  }
  R50_CHECK(status == cudaSuccess, "cudaMalloc(", bytes, " bytes) on ", name(), " failed: ",
            cudaGetErrorName(status), " (", cudaGetErrorString(status), ")");
  return ptr;
}

void CudaMemory::release(void* ptr) {
  DeviceScope scope(device_);
  const cudaError_t status = cudaFree(ptr);
  R50_CHECK(status == cudaSuccess, "cudaFree on ", name(), " failed: ", cudaGetErrorName(status),
            " (", cudaGetErrorString(status), ")");
}

std::unique_ptr<Allocator> make_cuda_device_allocator(int device) {
  return std::make_unique<DirectAllocator>(std::make_unique<CudaMemory>(device));
}

}  // namespace r50
