// defines: AllocatorStats, Allocator
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace r50 {

struct AllocatorStats {
  std::size_t allocated_bytes = 0;       // handed out and not yet returned
  std::size_t reserved_bytes = 0;        // taken from the system, cached or handed out
  std::size_t peak_allocated_bytes = 0;  // since construction or the last reset_peak()
  std::size_t peak_reserved_bytes = 0;
  std::uint64_t allocation_count = 0;      // calls to allocate()
  std::uint64_t raw_allocation_count = 0;  // allocations asked of the system
  std::uint64_t oom_count = 0;
};

// Where every byte of a backend's memory comes from. `stream` is the queue on which the memory
// will first be used; `record_stream` says it is used on another one as well, so the block is not
// reused before that work has finished. On the CPU there is one stream and both are trivial.
class Allocator {
 public:
  virtual ~Allocator() = default;

  virtual void* allocate(std::size_t bytes, Stream stream = {}) = 0;
  virtual void deallocate(void* ptr) = 0;
  virtual void record_stream(void* ptr, Stream stream) = 0;
  virtual AllocatorStats stats() const = 0;
  virtual void reset_peak() = 0;
  virtual void empty_cache() = 0;
};

}  // namespace r50
