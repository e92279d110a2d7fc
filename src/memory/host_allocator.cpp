#include "memory/host_allocator.h"

#include <cstdlib>

namespace r50 {
namespace {

class AlignedHostMemory final : public RawMemory {
 public:
  std::string name() const override { return "host"; }
  // DirectAllocator hands out multiples of 64 bytes, as aligned_alloc requires of its size.
  void* allocate(std::size_t bytes) override { return std::aligned_alloc(64, bytes); }
  void release(void* ptr) override { std::free(ptr); }
};

}  // namespace

HostAllocator::HostAllocator(std::size_t limit_bytes)
    : DirectAllocator(std::make_unique<AlignedHostMemory>(), limit_bytes) {}

}  // namespace r50
