// defines: DeviceMemoryInfo, RawMemory
#pragma once

#include <cstddef>
#include <string>

#include "core/device.h"

namespace r50 {

// What the device says about its memory, for out-of-memory messages. Zero where unknown.
struct DeviceMemoryInfo {
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
};

// Where an allocator's memory comes from: the system's own allocation calls for one kind of memory
// (aligned host memory, cudaMalloc on one GPU, a capped fake for tests), and the events that tell
// an allocator when work queued on a stream has finished. Allocators put their policy on top.
class RawMemory {
 public:
  virtual ~RawMemory() = default;

  virtual std::string name() const = 0;  // "host", "cuda:0": for messages
  // nullptr when the system has no memory left; other failures throw. Memory is aligned to at
  // least 256 bytes.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void release(void* ptr) = 0;
  virtual DeviceMemoryInfo memory_info() const { return {}; }

  // A marker of the work queued on `stream` so far: event_done says whether it has all finished.
  // Where work never waits in a queue (the host), every event is done at once; this default.
  virtual void* record_event(Stream /*stream*/) { return nullptr; }
  virtual bool event_done(void* /*event*/) { return true; }
  virtual void destroy_event(void* /*event*/) {}
};

}  // namespace r50
