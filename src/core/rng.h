// defines: Rng
#pragma once

#include <cstdint>

namespace r50 {

// A small, fast, reproducible generator (xoshiro256**, seeded through splitmix64). The same seed
// gives the same sequence on every machine; `keyed` derives independent streams from a seed and
// keys such as (epoch, image index), so results do not depend on thread count or order.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  static Rng keyed(std::uint64_t seed, std::uint64_t key1, std::uint64_t key2 = 0);

  std::uint64_t next_u64();
  double uniform();                      // [0, 1)
  double uniform(double low, double high);  // [low, high)
  double normal(double mean = 0.0, double stddev = 1.0);
  std::uint64_t below(std::uint64_t bound);  // [0, bound), unbiased

 private:
  std::uint64_t state_[4];
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace r50
