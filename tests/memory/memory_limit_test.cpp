// --gpu-memory-limit: sizes and shares of the device, and what is refused.
#include "memory/memory_limit.h"

#include <string>

#include <gtest/gtest.h>

#include "core/error.h"

namespace r50 {
namespace {

constexpr std::size_t kMiB = std::size_t(1) << 20;
constexpr std::size_t kGiB = std::size_t(1) << 30;

TEST(MemoryLimit, ReadsBinaryUnitsAsPowersOf1024) {
  EXPECT_EQ(parse_memory_limit("6GiB").bytes, 6 * kGiB);
  EXPECT_EQ(parse_memory_limit("512MiB").bytes, 512 * kMiB);
  EXPECT_EQ(parse_memory_limit("1.5GiB").bytes, 3 * kGiB / 2);
  EXPECT_EQ(parse_memory_limit("0.5GiB").bytes, kGiB / 2);  // a unit makes it a size, not a share
}

TEST(MemoryLimit, ReadsDecimalUnitsAsPowersOf1000) {
  EXPECT_EQ(parse_memory_limit("6GB").bytes, std::size_t(6) * 1000 * 1000 * 1000);
  EXPECT_EQ(parse_memory_limit("300MB").bytes, std::size_t(300) * 1000 * 1000);
}

TEST(MemoryLimit, ReadsABareNumberAbove1AsBytes) {
  EXPECT_EQ(parse_memory_limit("2048").bytes, 2048u);
  EXPECT_EQ(parse_memory_limit("6e9").bytes, std::size_t(6) * 1000 * 1000 * 1000);
  EXPECT_EQ(parse_memory_limit("2048").fraction, 0.0);
}

TEST(MemoryLimit, ReadsANumberUpTo1AsAShareOfTheDevice) {
  EXPECT_EQ(parse_memory_limit("0.5").fraction, 0.5);
  EXPECT_EQ(parse_memory_limit("1").fraction, 1.0);
  EXPECT_EQ(parse_memory_limit("0.5").bytes, 0u);
}

TEST(MemoryLimit, ReadsAPercentageAsAShareOfTheDevice) {
  EXPECT_EQ(parse_memory_limit("50%").fraction, 0.5);
  EXPECT_EQ(parse_memory_limit("100%").fraction, 1.0);
}

TEST(MemoryLimit, TurnsAShareIntoBytesOfTheDevicesTotal) {
  const std::size_t total = 8 * kGiB;
  EXPECT_EQ(parse_memory_limit("50%").bytes_of(total), total / 2);
  EXPECT_EQ(parse_memory_limit("0.25").bytes_of(total), total / 4);
}

TEST(MemoryLimit, KeepsASizeWhateverTheDevicesTotal) {
  EXPECT_EQ(parse_memory_limit("6GiB").bytes_of(8 * kGiB), 6 * kGiB);
  EXPECT_EQ(parse_memory_limit("6GiB").bytes_of(80 * kGiB), 6 * kGiB);
}

TEST(MemoryLimit, DefaultIsNone) {
  const MemoryLimit limit;
  EXPECT_TRUE(limit.none());
  EXPECT_EQ(limit.bytes_of(8 * kGiB), 0u);
  EXPECT_EQ(limit.str(), "none");
  EXPECT_FALSE(parse_memory_limit("6GiB").none());
  EXPECT_FALSE(parse_memory_limit("50%").none());
}

TEST(MemoryLimit, DescribesItself) {
  EXPECT_EQ(parse_memory_limit("6GiB").str(), "6.00 GiB");
  EXPECT_EQ(parse_memory_limit("50%").str(), "50% of the device");
}

TEST(MemoryLimit, RefusesWhatIsNotALimitAndSaysWhichFlag) {
  for (const std::string text : {"", "abc", "GiB", "-1GiB", "0", "0%", "150%", "5XB",
                                 "6 GiB", "nan", "1e400"}) {
    try {
      parse_memory_limit(text);
      ADD_FAILURE() << "'" << text << "' was accepted";
    } catch (const Error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("--gpu-memory-limit"), std::string::npos) << message;
      EXPECT_NE(message.find("'" + text + "'"), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace r50
