// defines: MemoryLimit, parse_memory_limit
#pragma once

#include <cstddef>
#include <string>

namespace r50 {

// --gpu-memory-limit: a cap on the memory an allocator reserves, as bytes ("6GiB", "512MiB",
// "6e9", "6GB") or as a share of the device ("0.5", "50%"), which only the device can turn into
// bytes. Default: none.
struct MemoryLimit {
  std::size_t bytes = 0;  // used when fraction is 0
  double fraction = 0.0;  // of the device's total memory, in (0, 1]

  bool none() const { return bytes == 0 && fraction == 0.0; }
  std::size_t bytes_of(std::size_t device_total) const;  // 0 when none
  std::string str() const;                               // "6.00 GiB", "50% of the device"
};

// Throws, saying what is accepted, on anything else (a negative or zero size, a fraction above 1,
// an unknown unit).
MemoryLimit parse_memory_limit(const std::string& text);

}  // namespace r50
