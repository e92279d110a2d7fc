#include "report/convolution_report.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace r50 {
namespace {

// ResNet-50's stem convolution: 7x7, stride 2, padding 3, over a 224x224 batch of 64.
ConvolutionAlgorithm stem() {
  return {"forward", {64, 3, 224, 224}, {64, 3, 7, 7}, 2, 3, "IMPLICIT_PRECOMP_GEMM", 1 << 20, 0.0};
}

TEST(ConvolutionAlgorithmsJson, HoldsOneObjectPerChoice) {
  const nlohmann::json json = nlohmann::json::parse(convolution_algorithms_json({stem()}));
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["direction"], "forward");
  EXPECT_EQ(json[0]["input"], nlohmann::json({64, 3, 224, 224}));
  EXPECT_EQ(json[0]["filter"], nlohmann::json({64, 3, 7, 7}));
  EXPECT_EQ(json[0]["dtype"], "F32");
  EXPECT_EQ(json[0]["stride"], 2);
  EXPECT_EQ(json[0]["padding"], 3);
  EXPECT_EQ(json[0]["algorithm"], "IMPLICIT_PRECOMP_GEMM");
  EXPECT_EQ(json[0]["workspace_bytes"], 1 << 20);
  EXPECT_EQ(json[0]["search_ms"], 0.0);
}

TEST(ConvolutionAlgorithmsJson, IsAnEmptyArrayWithoutChoices) {
  EXPECT_EQ(nlohmann::json::parse(convolution_algorithms_json({})), nlohmann::json::array());
}

TEST(ConvolutionAlgorithmsTable, ShowsAHeaderAndOneLinePerChoice) {
  EXPECT_EQ(convolution_algorithms_table({stem()}),
            "direction  input              filter         dtype  stride  padding  algorithm              workspace\n"
            "forward    [64, 3, 224, 224]  [64, 3, 7, 7]  F32         2        3  IMPLICIT_PRECOMP_GEMM   1.00 MiB\n");
}

TEST(ConvolutionAlgorithmsTable, NamesTheDtypeOfAHalfPrecisionChoice) {
  ConvolutionAlgorithm half = stem();
  half.dtype = "BF16";
  EXPECT_EQ(convolution_algorithms_table({half}),
            "direction  input              filter         dtype  stride  padding  algorithm              workspace\n"
            "forward    [64, 3, 224, 224]  [64, 3, 7, 7]  BF16        2        3  IMPLICIT_PRECOMP_GEMM   1.00 MiB\n");
  EXPECT_EQ(nlohmann::json::parse(convolution_algorithms_json({half}))[0]["dtype"], "BF16");
}

}  // namespace
}  // namespace r50
