#include "core/bytes.h"

#include <gtest/gtest.h>

namespace r50 {
namespace {

// Below a mebibyte, the exact count; above, two decimals of the largest binary unit reached.
TEST(FormatBytes, PicksTheLargestBinaryUnitReached) {
  EXPECT_EQ(format_bytes(512), "512 bytes");
  EXPECT_EQ(format_bytes((std::size_t(1) << 20) - 1), "1048575 bytes");
  EXPECT_EQ(format_bytes(std::size_t(7) << 19), "3.50 MiB");
  EXPECT_EQ(format_bytes(std::size_t(6) << 30), "6.00 GiB");
}

}  // namespace
}  // namespace r50
