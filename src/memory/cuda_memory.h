// defines: CudaMemory, make_cuda_device_allocator
#pragma once

#include <memory>

#include "memory/allocator.h"
#include "memory/raw_memory.h"

namespace r50 {

// cudaMalloc and cudaFree on one GPU. cudaFree waits for the work queued on the device, so a block
// is never handed back to the system while a kernel may still touch it.
class CudaMemory final : public RawMemory {
 public:
  explicit CudaMemory(int device) : device_(device) {}

  std::string name() const override;
  void* allocate(std::size_t bytes) override;
  void release(void* ptr) override;

 private:
  int device_;
};

// The device allocator the CUDA backend uses: plain cudaMalloc per request (DirectAllocator), until
// the caching allocator replaces it behind the same interface.
std::unique_ptr<Allocator> make_cuda_device_allocator(int device);

}  // namespace r50
