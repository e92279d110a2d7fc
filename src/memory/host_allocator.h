// defines: HostAllocator
#pragma once

#include <mutex>
#include <unordered_map>

#include "memory/allocator.h"

namespace r50 {

// Plain, 64-byte aligned host memory with exact statistics; nothing is cached, so reserved equals
// allocated. Used by the CPU backend.
class HostAllocator final : public Allocator {
 public:
  HostAllocator() = default;
  ~HostAllocator() override;
  HostAllocator(const HostAllocator&) = delete;
  HostAllocator& operator=(const HostAllocator&) = delete;

  void* allocate(std::size_t bytes, Stream stream = {}) override;
  void deallocate(void* ptr) override;
  void record_stream(void* ptr, Stream stream) override;
  AllocatorStats stats() const override;
  void reset_peak() override;
  void empty_cache() override {}

 private:
  mutable std::mutex mutex_;
  std::unordered_map<void*, std::size_t> live_;  // pointer -> bytes
  AllocatorStats stats_;
};

}  // namespace r50
