#include "core/precision.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace r50 {
namespace {

TEST(Precision, NamesRoundTrip) {
  for (Precision precision : {Precision::Fp32, Precision::Tf32, Precision::Fp16, Precision::Bf16}) {
    EXPECT_EQ(parse_precision(precision_name(precision)), precision);
  }
}

TEST(Precision, AnUnknownNameIsAnErrorThatListsTheChoices) {
  try {
    parse_precision("fp8");
    FAIL() << "fp8 was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("expected fp32, tf32, fp16 or bf16"), std::string::npos);
  }
}

// DESIGN.md: tf32 and bf16 need compute capability 8.0; a GTX 1660 (7.5) runs fp32 and fp16.
TEST(Precision, Tf32AndBf16NeedAmpere) {
  EXPECT_EQ(minimum_compute_capability(Precision::Tf32), 80);
  EXPECT_EQ(minimum_compute_capability(Precision::Bf16), 80);
  EXPECT_EQ(minimum_compute_capability(Precision::Fp16), 75);
  EXPECT_EQ(minimum_compute_capability(Precision::Fp32), 75);
}

}  // namespace
}  // namespace r50
