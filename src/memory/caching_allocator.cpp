#include "memory/caching_allocator.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <sstream>
#include <tuple>
#include <utility>

#include "core/bytes.h"

namespace r50 {

// A piece of a segment: handed out, cached free in its pool, or waiting for another stream's work.
// Blocks of one segment form a list in address order, so a freed block finds its neighbours.
struct CachingAllocator::Block {
  Block(char* ptr_, std::size_t size_, Stream stream_, bool small_)
      : ptr(ptr_), size(size_), stream(stream_), small(small_) {}

  char* ptr;
  std::size_t size;
  Stream stream;  // the stream it was allocated for; only that stream's requests reuse it
  bool small;     // which pool it belongs to
  bool allocated = false;
  std::size_t requested = 0;  // the rounded request, while allocated
  Block* prev = nullptr;
  Block* next = nullptr;
  std::vector<Stream> other_streams;  // where else it was used (record_stream)
  int pending_events = 0;             // events to wait for before it can be reused
  bool graph = false;                 // a live graph's capture may have used it
  bool held = false;                  // free, but kept out of the pool for graphs

  bool free() const { return !allocated && pending_events == 0 && !held; }
};

// Pools are ordered by stream, then size, then address: lower_bound of (stream, size) is the best
// fit among that stream's blocks.
bool CachingAllocator::BlockOrder::operator()(const Block* a, const Block* b) const {
  const auto key = [](const Block* block) {
    return std::tuple(reinterpret_cast<std::uintptr_t>(block->stream.handle), block->size,
                      reinterpret_cast<std::uintptr_t>(block->ptr));
  };
  return key(a) < key(b);
}

std::size_t CachingAllocator::round_request(std::size_t bytes) {
  return std::max(kRound, (bytes + kRound - 1) / kRound * kRound);
}

std::size_t CachingAllocator::segment_size(std::size_t rounded_request) {
  if (rounded_request <= kSmallRequest) return kSmallSegment;
  if (rounded_request < kOwnSegment) return kLargeSegment;
  return (rounded_request + kOwnSegmentRound - 1) / kOwnSegmentRound * kOwnSegmentRound;
}

CachingAllocator::CachingAllocator(std::unique_ptr<RawMemory> raw, CachingAllocatorOptions options)
    : raw_(std::move(raw)), options_(options) {}

CachingAllocator::~CachingAllocator() {
  if (!live_.empty()) {
    std::fprintf(stderr, "warning: the %s allocator was destroyed with %zu blocks (%zu bytes) still live\n",
                 raw_->name().c_str(), live_.size(), stats_.allocated_bytes);
  }
  // Nothing here may throw: report and go on.
  try {
    for (const PendingFree& pending : pending_) raw_->destroy_event(pending.event);
    for (const auto& [head, bytes] : segments_) {
      void* base = head->ptr;
      for (Block* block = head; block;) delete std::exchange(block, block->next);
      raw_->release(base);
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "warning: %s\n", error.what());
  }
}

CachingAllocator::Pool& CachingAllocator::pool_for(std::size_t rounded) {
  return rounded <= kSmallRequest ? small_pool_ : large_pool_;
}

void* CachingAllocator::allocate(std::size_t bytes, Stream stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.allocation_count;
  // Beyond this no device exists, and rounding would wrap around: a size gone negative upstream.
  if (bytes > (SIZE_MAX >> 1)) throw_out_of_memory(bytes, 0, 0);
  if (!capturing_) process_events();  // querying events is not allowed while capturing
  const std::size_t rounded = round_request(bytes);
  Pool& pool = pool_for(rounded);
  Block* block = take_free_block(pool, stream, rounded);
  if (!block && capturing_) throw_capture_needs_segment(bytes, rounded);
  if (!block) block = new_segment(pool, stream, bytes, rounded);
  split(block, rounded);
  block->allocated = true;
  block->graph = block->graph || capturing_;
  block->requested = rounded;
  live_.emplace(block->ptr, block);
  stats_.allocated_bytes += rounded;
  note_peaks();
  return block->ptr;
}

CachingAllocator::Block* CachingAllocator::take_free_block(Pool& pool, Stream stream,
                                                           std::size_t rounded) {
  Block key(nullptr, rounded, stream, false);
  auto it = pool.lower_bound(&key);
  if (it == pool.end() || (*it)->stream.handle != stream.handle) return nullptr;
  Block* block = *it;
  pool.erase(it);
  return block;
}

// A request of 10 MiB or more gets a segment of at least an eighth of what is already reserved
// (at most 1 GiB), when that fits: later requests of other sizes can then split from it, where an
// exact-size segment serves only its own size or smaller ones, and a step whose big gradient
// temporaries come after its activations would reserve new segments beside unusable free ones.
std::size_t CachingAllocator::grown_segment_size(std::size_t rounded) const {
  const std::size_t exact = segment_size(rounded);
  if (rounded < kOwnSegment) return exact;
  const std::size_t share = std::min(stats_.reserved_bytes / 8, kMaxGrownSegment);
  return std::max(exact, (share + kOwnSegmentRound - 1) / kOwnSegmentRound * kOwnSegmentRound);
}

CachingAllocator::Block* CachingAllocator::new_segment(Pool& pool, Stream stream, std::size_t bytes_asked,
                                                      std::size_t rounded) {
  const std::size_t exact = segment_size(rounded), grown = grown_segment_size(rounded);
  const auto reserve = [&](std::size_t bytes) -> void* {
    const bool within_limit =
        options_.limit_bytes == 0 || stats_.reserved_bytes + bytes <= options_.limit_bytes;
    return within_limit ? raw_->allocate(bytes) : nullptr;
  };
  std::size_t bytes = grown;
  void* ptr = reserve(grown);
  if (!ptr && grown != exact) ptr = reserve(bytes = exact);
  if (!ptr) {  // give back what the cache holds unused, and try once more
    release_free_segments();
    ptr = reserve(bytes = exact);
  }
  if (!ptr) throw_out_of_memory(bytes_asked, rounded, exact);
  Block* block = new Block(static_cast<char*>(ptr), bytes, stream, &pool == &small_pool_);
  segments_.emplace(block, bytes);
  ++stats_.raw_allocation_count;
  stats_.reserved_bytes += bytes;
  return block;
}

// Splits the rest off when it is worth keeping: any rest in the small pool; in the large pool a
// rest of more than 1 MiB, since a smaller one could serve no large request on its own.
void CachingAllocator::split(Block* block, std::size_t rounded) {
  const std::size_t rest = block->size - rounded;
  if (block->small ? rest < kRound : rest <= kSmallRequest) return;
  Block* remainder = new Block(block->ptr + rounded, rest, block->stream, block->small);
  remainder->graph = block->graph;
  remainder->prev = block;
  remainder->next = block->next;
  if (block->next) block->next->prev = remainder;
  block->next = remainder;
  block->size = rounded;
  (block->small ? small_pool_ : large_pool_).insert(remainder);
}

void CachingAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  R50_CHECK(it != live_.end(), "deallocate: ", ptr, " was not allocated by the ", raw_->name(),
            " caching allocator, or was already freed");
  Block* block = it->second;
  live_.erase(it);
  stats_.allocated_bytes -= block->requested;
  block->requested = 0;
  // Work queued on other streams may still use the block: it waits for an event on each.
  for (const Stream& stream : block->other_streams) {
    pending_.push_back({raw_->record_event(stream), block});
    ++block->pending_events;
  }
  block->other_streams.clear();
  block->allocated = false;
  block->graph = block->graph || capturing_;  // the captured work may have used it until now
  if (block->pending_events == 0) cache_or_hold(block);
}

void CachingAllocator::cache_or_hold(Block* block) {
  if (block->graph && graphs_ > 0 && !capturing_) {
    block->held = true;
    return;
  }
  free_block(block);
}

// Back into its pool, merged with whichever neighbours are free. A merged block may hold memory a
// graph uses when either part did.
void CachingAllocator::free_block(Block* block) {
  Pool& pool = block->small ? small_pool_ : large_pool_;
  if (Block* prev = block->prev; prev && prev->free()) {
    pool.erase(prev);
    prev->graph = prev->graph || block->graph;
    prev->size += block->size;
    prev->next = block->next;
    if (block->next) block->next->prev = prev;
    delete block;
    block = prev;
  }
  if (Block* next = block->next; next && next->free()) {
    pool.erase(next);
    block->graph = block->graph || next->graph;
    block->size += next->size;
    block->next = next->next;
    if (next->next) next->next->prev = block;
    delete next;
  }
  pool.insert(block);
}

void CachingAllocator::process_events() {
  auto done = std::remove_if(pending_.begin(), pending_.end(), [this](const PendingFree& pending) {
    if (!raw_->event_done(pending.event)) return false;
    raw_->destroy_event(pending.event);
    if (--pending.block->pending_events == 0) cache_or_hold(pending.block);
    return true;
  });
  pending_.erase(done, pending_.end());
}

// Every segment that is one free block goes back to the raw memory.
void CachingAllocator::release_free_segments() {
  for (Pool* pool : {&small_pool_, &large_pool_}) {
    for (auto it = pool->begin(); it != pool->end();) {
      Block* block = *it;
      if (block->prev || block->next) {
        ++it;
        continue;
      }
      it = pool->erase(it);
      stats_.reserved_bytes -= block->size;
      segments_.erase(block);
      raw_->release(block->ptr);
      delete block;
    }
  }
}

void CachingAllocator::throw_out_of_memory(std::size_t bytes, std::size_t rounded, std::size_t segment) {
  ++stats_.oom_count;
  const auto [cached, largest] = cached_free_blocks();
  const DeviceMemoryInfo device = raw_->memory_info();
  std::ostringstream message;
  message << "out of memory on " << raw_->name() << ": asked for " << format_bytes(rounded ? rounded : bytes) << " ("
          << bytes << " bytes";
  if (segment) message << ", a new segment of " << format_bytes(segment);
  message << ") with "
          << format_bytes(stats_.allocated_bytes) << " allocated and " << format_bytes(stats_.reserved_bytes)
          << " reserved, of which " << format_bytes(cached) << " is reserved but free (largest free block "
          << format_bytes(largest) << ")";
  if (const std::size_t held = held_free_bytes()) message << " and " << format_bytes(held) << " held for CUDA graphs";
  if (device.total_bytes) {
    message << "; the device has " << format_bytes(device.free_bytes) << " free of "
            << format_bytes(device.total_bytes);
  }
  if (options_.limit_bytes) message << "; the limit is " << format_bytes(options_.limit_bytes);
  message << ". A smaller batch may fit: bench_resnet50 --find-max-batch finds the largest.";
  throw OutOfMemory(message.str(), __FILE__, __LINE__, bytes);
}

void CachingAllocator::throw_capture_needs_segment(std::size_t bytes, std::size_t rounded) {
  const auto [cached, largest] = cached_free_blocks();
  R50_THROW("CUDA graph capture: a request for ", format_bytes(rounded), " (", bytes,
            " bytes) finds no free block in the cache (", format_bytes(cached), " cached, largest free block ",
            format_bytes(largest), ") and would need a new segment from ", raw_->name(),
            ", which a capture may not allocate; run training steps without capture first, so that the "
            "cache holds what a step needs");
}

void CachingAllocator::begin_capture() {
  std::lock_guard<std::mutex> lock(mutex_);
  R50_CHECK(!capturing_, "begin_capture: a capture is already under way on the ", raw_->name(), " allocator");
  process_events();  // the last chance until end_capture()
  capturing_ = true;
  ++graphs_;
  for (const auto& [ptr, block] : live_) block->graph = true;  // the captured work may read any of them
}

void CachingAllocator::end_capture() {
  std::lock_guard<std::mutex> lock(mutex_);
  R50_CHECK(capturing_, "end_capture: no capture is under way on the ", raw_->name(), " allocator");
  capturing_ = false;
  for (Pool* pool : {&small_pool_, &large_pool_}) {
    for (auto it = pool->begin(); it != pool->end();) {
      if (!(*it)->graph) {
        ++it;
        continue;
      }
      (*it)->held = true;
      it = pool->erase(it);
    }
  }
}

void CachingAllocator::release_capture() {
  std::lock_guard<std::mutex> lock(mutex_);
  R50_CHECK(!capturing_ && graphs_ > 0, "release_capture: no ended capture on the ", raw_->name(),
            " allocator to release");
  if (--graphs_ > 0) return;
  std::vector<Block*> held;
  for (const auto& [head, bytes] : segments_) {
    for (Block* block = head; block; block = block->next) {
      block->graph = false;
      if (block->held) held.push_back(block);
    }
  }
  // One at a time: a block still held merges with nothing, so none is deleted before its turn.
  for (Block* block : held) {
    block->held = false;
    free_block(block);
  }
}

bool CachingAllocator::capturing() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return capturing_;
}

std::size_t CachingAllocator::held_for_graphs_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_free_bytes();
}

std::size_t CachingAllocator::held_free_bytes() const {
  std::size_t total = 0;
  for (const auto& [head, bytes] : segments_) {
    for (const Block* block = head; block; block = block->next) total += block->held ? block->size : 0;
  }
  return total;
}

void CachingAllocator::record_stream(void* ptr, Stream stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  R50_CHECK(it != live_.end(), "record_stream: ", ptr, " was not allocated by the ", raw_->name(),
            " caching allocator, or was already freed");
  Block* block = it->second;
  if (stream.handle == block->stream.handle) return;
  if (std::find(block->other_streams.begin(), block->other_streams.end(), stream) ==
      block->other_streams.end()) {
    block->other_streams.push_back(stream);
  }
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  R50_CHECK(!capturing_, "empty_cache: the ", raw_->name(),
            " allocator may not release memory while a CUDA graph is being captured");
  process_events();
  release_free_segments();
}

std::size_t CachingAllocator::largest_free_block() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_free_blocks().second;
}

std::pair<std::size_t, std::size_t> CachingAllocator::cached_free_blocks() const {
  std::size_t total = 0, largest = 0;
  for (const Pool* pool : {&small_pool_, &large_pool_}) {
    for (const Block* block : *pool) {
      total += block->size;
      largest = std::max(largest, block->size);
    }
  }
  return {total, largest};
}

void CachingAllocator::note_peaks() {
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
}

}  // namespace r50
