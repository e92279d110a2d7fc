// The default batch's search: the preferred batch when it fits, else the largest multiple of 8
// below it that fits, else the largest of 1 to 7, found with few tries.
#include "find_max_batch.h"

#include <vector>

#include <gtest/gtest.h>

namespace r50 {
namespace {

// A device on which batches up to `largest` fit, recording what was tried.
struct Device {
  int largest;
  std::vector<int> tried;
  bool operator()(int batch) {
    tried.push_back(batch);
    return batch <= largest;
  }
};

int search(Device& device, int preferred) {
  return largest_batch_up_to(preferred, [&device](int batch) { return device(batch); });
}

TEST(LargestBatchUpTo, KeepsThePreferredBatchAfterOneTry) {
  Device roomy{1000, {}};
  EXPECT_EQ(search(roomy, 64), 64);
  EXPECT_EQ(roomy.tried, std::vector<int>{64});
}

TEST(LargestBatchUpTo, ShrinksToTheLargestMultipleOfEightThatFits) {
  Device card{45, {}};
  EXPECT_EQ(search(card, 64), 40);
  // 64, then the multiples of 8 below it by bisection: 32, 48, 40 (then 40 < x < 48 is settled).
  EXPECT_EQ(card.tried, (std::vector<int>{64, 32, 48, 40}));
}

TEST(LargestBatchUpTo, FindsTheLargestMultipleOfEightJustBelowThePreferred) {
  Device card{63, {}};
  EXPECT_EQ(search(card, 64), 56);
  Device odd{60, {}};
  EXPECT_EQ(search(odd, 61), 56);  // 61 fails; the multiples of 8 below it end at 56
}

TEST(LargestBatchUpTo, GoesBelowEightOnlyWhenEightDoesNotFit) {
  Device tiny{5, {}};
  EXPECT_EQ(search(tiny, 64), 5);
  Device none{0, {}};
  EXPECT_EQ(search(none, 64), 0);
  EXPECT_EQ(none.tried.back(), 1);
}

TEST(LargestBatchUpTo, HandlesPreferredBatchesBelowEight) {
  Device tiny{3, {}};
  EXPECT_EQ(search(tiny, 6), 3);
  EXPECT_EQ(search(tiny, 2), 2);
  EXPECT_EQ(search(tiny, 0), 0);
}

}  // namespace
}  // namespace r50
