// defines: CachingAllocatorOptions, CachingAllocator
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "memory/allocator.h"
#include "memory/raw_memory.h"

namespace r50 {

struct CachingAllocatorOptions {
  std::size_t limit_bytes = 0;  // a cap on reserved memory; 0: none (the device's own size)
};

// A caching allocator in the manner of PyTorch's CUDA allocator, over any RawMemory.
//
// Requests are rounded up to 512 bytes. Small requests (up to 1 MiB) are carved from 2 MiB
// segments, larger ones from 20 MiB segments, and requests of 10 MiB or more get a segment of
// their own rounded up to 2 MiB, or of an eighth of what is already reserved if that is larger
// (up to 1 GiB), so that requests of other sizes can later split from it. A request takes the smallest cached free block of its pool and
// stream that fits (best fit), split when the rest is worth keeping; a freed block merges with
// free neighbours of its segment. Nothing is reserved up front and nothing goes back to the
// system until empty_cache(), or until a request fails: then every wholly free segment is released
// and the request retried once, before OutOfMemory.
//
// Streams: a block belongs to the stream it was allocated for, and only that stream's requests
// reuse it (work on one stream runs in order, so that is safe at once). A block also used on
// another stream (record_stream) returns to the cache only when an event recorded on that stream
// at deallocate() says its work there has finished.
//
// Statistics: allocated_bytes is what callers asked for, each request rounded to 512 bytes, until
// they deallocate it; reserved_bytes is what the raw memory handed out, in segments. The gap is
// the cache, plus the part of a large block not worth splitting off (at most 1 MiB per block).
// allocate(0) returns a distinct 512-byte block, as every request does at least.
//
// CUDA graph capture: a graph replays the addresses its capture saw, so while it lives no one else
// may be handed that memory. Between begin_capture() and end_capture() requests are served from
// the cache exactly as at any other time (frees and reuse among the captured work follow its
// stream order, which a replay keeps), but never from the raw memory: a request the cache cannot
// serve throws, naming it, since a capture may make no cudaMalloc (run steps without capture first
// to fill the cache). Every block live when the capture begins, handed out or freed during it
// stays held: out of the cache, merged with nothing, until release_capture() has been called once
// for each end_capture(), i.e. until the last graph is gone. A free block merged during the
// capture with such a block is held whole, so that a capture splits and merges exactly as the
// same work uncaptured would, and needs no segment that work did not. Free held memory counts as
// reserved but not cached (held_for_graphs_bytes()). One capture at a time; any thread's requests
// during it count as the capture's; events are not queried during it.
//
// Thread-safe: one mutex around everything.
class CachingAllocator final : public Allocator {
 public:
  explicit CachingAllocator(std::unique_ptr<RawMemory> raw, CachingAllocatorOptions options = {});
  ~CachingAllocator() override;
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(std::size_t bytes, Stream stream = {}) override;
  void deallocate(void* ptr) override;
  void record_stream(void* ptr, Stream stream) override;
  AllocatorStats stats() const override;
  void reset_peak() override;
  void empty_cache() override;

  void begin_capture();
  void end_capture();      // the capture's blocks stay held for its graph
  void release_capture();  // a graph is gone; after the last one, held blocks return to the cache
  bool capturing() const;
  std::size_t held_for_graphs_bytes() const;  // free blocks kept out of the cache for graphs

  const CachingAllocatorOptions& options() const { return options_; }
  std::size_t largest_free_block() const;  // among cached free blocks, for reports

  // The sizes the policy uses, public for tests and benchmarks.
  static constexpr std::size_t kRound = 512;
  static constexpr std::size_t kSmallRequest = std::size_t(1) << 20;   // 1 MiB
  static constexpr std::size_t kSmallSegment = std::size_t(2) << 20;   // 2 MiB
  static constexpr std::size_t kLargeSegment = std::size_t(20) << 20;  // 20 MiB
  static constexpr std::size_t kOwnSegment = std::size_t(10) << 20;    // 10 MiB and above
  static constexpr std::size_t kOwnSegmentRound = std::size_t(2) << 20;
  static constexpr std::size_t kMaxGrownSegment = std::size_t(1) << 30;
  static std::size_t round_request(std::size_t bytes);
  static std::size_t segment_size(std::size_t rounded_request);

 private:
  struct Block;
  struct BlockOrder {
    bool operator()(const Block* a, const Block* b) const;
  };
  using Pool = std::set<Block*, BlockOrder>;
  struct PendingFree {
    void* event;
    Block* block;
  };

  Pool& pool_for(std::size_t rounded);
  Block* take_free_block(Pool& pool, Stream stream, std::size_t rounded);
  std::size_t grown_segment_size(std::size_t rounded) const;
  Block* new_segment(Pool& pool, Stream stream, std::size_t bytes_asked, std::size_t rounded);
  void split(Block* block, std::size_t rounded);
  void free_block(Block* block);
  void cache_or_hold(Block* block);  // a block no one uses any more: into its pool, or held
  std::size_t held_free_bytes() const;
  void process_events();
  void release_free_segments();
  // `rounded` and `segment` are 0 for a request too large to round.
  [[noreturn]] void throw_out_of_memory(std::size_t bytes, std::size_t rounded, std::size_t segment);
  [[noreturn]] void throw_capture_needs_segment(std::size_t bytes, std::size_t rounded);
  void note_peaks();
  // The bytes in the pools' free blocks, and the largest of them; the caller holds the mutex.
  std::pair<std::size_t, std::size_t> cached_free_blocks() const;

  std::unique_ptr<RawMemory> raw_;
  CachingAllocatorOptions options_;
  mutable std::mutex mutex_;
  Pool small_pool_, large_pool_;
  std::unordered_map<void*, Block*> live_;  // allocated blocks by pointer
  // Head block (the segment's first, which stays first through splits and merges) -> bytes.
  std::unordered_map<Block*, std::size_t> segments_;
  std::vector<PendingFree> pending_;        // blocks waiting for other streams' work
  bool capturing_ = false;
  int graphs_ = 0;  // captures begun and not yet released, the one under way included
  AllocatorStats stats_;
};

}  // namespace r50
