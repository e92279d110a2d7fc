#include "memory/fake_memory.h"

#include <cstdlib>

#include "core/error.h"

namespace r50 {

FakeDeviceMemory::~FakeDeviceMemory() {
  for (const auto& [ptr, bytes] : blocks_) std::free(ptr);
  for (const auto& [handle, event] : events_) delete event;
}

void* FakeDeviceMemory::allocate(std::size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (bytes > capacity_ - in_use_) return nullptr;
  void* ptr = std::aligned_alloc(512, (bytes + 511) / 512 * 512);
  if (!ptr) return nullptr;
  blocks_.emplace(ptr, bytes);
  in_use_ += bytes;
  ++allocation_calls_;
  return ptr;
}

void FakeDeviceMemory::release(void* ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = blocks_.find(ptr);
  R50_CHECK(it != blocks_.end(), "fake device: release of ", ptr, ", which it did not allocate");
  in_use_ -= it->second;
  blocks_.erase(it);
  std::free(ptr);
}

DeviceMemoryInfo FakeDeviceMemory::memory_info() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {capacity_ - in_use_, capacity_};
}

void* FakeDeviceMemory::record_event(Stream stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  Event* event = new Event{stream, false};
  events_.emplace(event, event);
  return event;
}

bool FakeDeviceMemory::event_done(void* event) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = events_.find(event);
  R50_CHECK(it != events_.end(), "fake device: event ", event, " is unknown");
  return it->second->done;
}

void FakeDeviceMemory::destroy_event(void* event) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = events_.find(event);
  R50_CHECK(it != events_.end(), "fake device: event ", event, " is unknown");
  delete it->second;
  events_.erase(it);
}

void FakeDeviceMemory::finish_stream(Stream stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [handle, event] : events_) {
    if (event->stream == stream) event->done = true;
  }
}

std::size_t FakeDeviceMemory::in_use_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_use_;
}

std::uint64_t FakeDeviceMemory::allocation_calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return allocation_calls_;
}

std::size_t FakeDeviceMemory::live_events() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_.size();
}

}  // namespace r50
