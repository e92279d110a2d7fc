// defines: FakeDeviceMemory
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "memory/raw_memory.h"

namespace r50 {

// Host memory posing as a device of `capacity` bytes, for the allocator's tests and benchmarks:
// a request beyond what is left fails as cudaMalloc does (nullptr), and events are tickets that
// stay pending until finish_stream() says the work queued on their stream has finished.
// Thread-safe.
class FakeDeviceMemory final : public RawMemory {
 public:
  explicit FakeDeviceMemory(std::size_t capacity) : capacity_(capacity) {}
  ~FakeDeviceMemory() override;

  std::string name() const override { return "fake device"; }
  void* allocate(std::size_t bytes) override;  // 512-byte aligned
  void release(void* ptr) override;
  DeviceMemoryInfo memory_info() const override;
  void* record_event(Stream stream) override;
  bool event_done(void* event) override;
  void destroy_event(void* event) override;

  // Every event recorded on `stream` so far is done, as if the stream's queued work finished.
  void finish_stream(Stream stream);

  std::size_t in_use_bytes() const;
  std::uint64_t allocation_calls() const;  // successful allocate() calls
  std::size_t live_events() const;         // recorded and not yet destroyed

 private:
  struct Event {
    Stream stream;
    bool done;
  };

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<void*, std::size_t> blocks_;
  std::unordered_map<void*, Event*> events_;
  std::size_t in_use_ = 0;
  std::uint64_t allocation_calls_ = 0;
};

}  // namespace r50
