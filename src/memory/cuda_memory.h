// defines: CudaMemory, PinnedHostMemory, make_cuda_device_allocator, make_pinned_host_allocator
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
  DeviceMemoryInfo memory_info() const override;  // cudaMemGetInfo
  void* record_event(Stream stream) override;      // a cudaEvent_t recorded on the stream
  bool event_done(void* event) override;           // cudaEventQuery
  void destroy_event(void* event) override;

 private:
  int device_;
};

// Page-locked host memory (cudaHostAlloc), from which copies to a GPU run asynchronously: the
// loader's batches live there when a GPU trains on them.
class PinnedHostMemory final : public RawMemory {
 public:
  std::string name() const override { return "pinned host"; }
  void* allocate(std::size_t bytes) override;
  void release(void* ptr) override;
};

// A CachingAllocator over pinned host memory.
std::unique_ptr<Allocator> make_pinned_host_allocator();

// The device allocator the CUDA backend uses: a CachingAllocator over cudaMalloc on `device`, its
// reserved memory capped at `limit_bytes` (0: no cap).
std::unique_ptr<Allocator> make_cuda_device_allocator(int device, std::size_t limit_bytes);

}  // namespace r50
