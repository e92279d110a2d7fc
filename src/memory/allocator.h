// defines: AllocatorStats, OutOfMemory, Allocator
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/device.h"
#include "core/error.h"

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

// Thrown when a request cannot be met: by a caching allocator, even after the cache has given back
// what it holds unused; by a capped direct one, when the request would pass its cap.
// The message says what was asked and where memory stands; the fields say the same for programs
// (bench_resnet50 --find-max-batch recovers from it and tries a smaller batch).
class OutOfMemory : public Error {
 public:
  OutOfMemory(const std::string& message, const char* file, int line, std::size_t requested_bytes)
      : Error(message, file, line), requested_bytes_(requested_bytes) {}
  std::size_t requested_bytes() const { return requested_bytes_; }  // as asked, before rounding

 private:
  std::size_t requested_bytes_;
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
