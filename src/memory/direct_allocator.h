// defines: DirectAllocator
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include "memory/allocator.h"
#include "memory/raw_memory.h"

namespace r50 {

// Every allocate() asks the raw memory, every deallocate() gives the block straight back; nothing
// is cached, so reserved equals allocated and the statistics are exact. Sizes are rounded up to
// 64 bytes (a cache line). With a cap (`limit_bytes`, 0: none), a request that would take the
// allocated bytes past it throws OutOfMemory, as a failed request of the raw memory does.
// Thread-safe.
class DirectAllocator : public Allocator {
 public:
  explicit DirectAllocator(std::unique_ptr<RawMemory> raw, std::size_t limit_bytes = 0);
  ~DirectAllocator() override;
  DirectAllocator(const DirectAllocator&) = delete;
  DirectAllocator& operator=(const DirectAllocator&) = delete;

  void* allocate(std::size_t bytes, Stream stream = {}) override;
  void deallocate(void* ptr) override;
  // Nothing to wait for: a block goes back to the system only when deallocated, and the system
  // (cudaFree) waits for the device's queued work first.
  void record_stream(void* ptr, Stream stream) override;
  AllocatorStats stats() const override;
  void reset_peak() override;
  void empty_cache() override {}

 private:
  [[noreturn]] void out_of_memory(std::size_t bytes, std::size_t rounded);

  std::unique_ptr<RawMemory> raw_;
  std::size_t limit_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<void*, std::size_t> live_;  // pointer -> bytes
  AllocatorStats stats_;
};

}  // namespace r50
