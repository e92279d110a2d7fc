// defines: RawMemory
#pragma once

#include <cstddef>
#include <string>

namespace r50 {

// Where an allocator's memory comes from: the system's own allocation calls for one kind of memory
// (aligned host memory, cudaMalloc on one GPU). Allocators put their policy on top of it.
class RawMemory {
 public:
  virtual ~RawMemory() = default;

  virtual std::string name() const = 0;  // "host", "cuda:0": for messages
  // nullptr when the system has no memory left; other failures throw.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void release(void* ptr) = 0;
};

}  // namespace r50
