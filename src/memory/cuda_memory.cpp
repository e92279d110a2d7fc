#include "memory/cuda_memory.h"

#include <cuda_runtime_api.h>

#include "core/error.h"
#include "memory/caching_allocator.h"

namespace r50 {
namespace {

// The allocation calls act on the calling thread's current device; make it ours for the call.
void check(cudaError_t status, const char* call) {
  R50_CHECK(status == cudaSuccess, call, " failed: ", cudaGetErrorName(status), " (",
            cudaGetErrorString(status), ")");
}

class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceScope() { cudaSetDevice(previous_); }  // back to a device that worked a moment ago

 private:
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

DeviceMemoryInfo CudaMemory::memory_info() const {
  DeviceScope scope(device_);
  DeviceMemoryInfo info;
  if (cudaMemGetInfo(&info.free_bytes, &info.total_bytes) != cudaSuccess) {
    cudaGetLastError();  // only for a message: unknown is reported as zero
    return {};
  }
  return info;
}

void* CudaMemory::record_event(Stream stream) {
  DeviceScope scope(device_);
  cudaEvent_t event = nullptr;
  check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  check(cudaEventRecord(event, static_cast<cudaStream_t>(stream.handle)), "cudaEventRecord");
  return event;
}

bool CudaMemory::event_done(void* event) {
  const cudaError_t status = cudaEventQuery(static_cast<cudaEvent_t>(event));
  if (status == cudaErrorNotReady) {
    cudaGetLastError();  // "not yet" is an answer, not an error to leave behind
    return false;
  }
  check(status, "cudaEventQuery");
  return true;
}

void CudaMemory::destroy_event(void* event) {
  check(cudaEventDestroy(static_cast<cudaEvent_t>(event)), "cudaEventDestroy");
}

void* PinnedHostMemory::allocate(std::size_t bytes) {
  void* ptr = nullptr;
  const cudaError_t status = cudaHostAlloc(&ptr, bytes, cudaHostAllocDefault);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return nullptr;
  }
  check(status, "cudaHostAlloc");
  return ptr;
}

void PinnedHostMemory::release(void* ptr) { check(cudaFreeHost(ptr), "cudaFreeHost"); }

std::unique_ptr<Allocator> make_pinned_host_allocator() {
  return std::make_unique<CachingAllocator>(std::make_unique<PinnedHostMemory>());
}

std::unique_ptr<Allocator> make_cuda_device_allocator(int device, std::size_t limit_bytes) {
  return std::make_unique<CachingAllocator>(std::make_unique<CudaMemory>(device),
                                            CachingAllocatorOptions{limit_bytes});
}

}  // namespace r50
