// The closing table of bench_layers: which ops lose the most time per step against the roofline.
#include "layer_summary.h"

#include <regex>

#include <gtest/gtest.h>

namespace r50 {
namespace {

LayerResult measured(const std::string& name, int calls_per_step, double ms_per_call, double roofline_ms) {
  LayerResult result;
  result.name = name;
  result.layer.op = LayerOp::Add;
  result.layer.x = {1, 1000, 1000, 1};  // an add moves 3 · 4 MB
  result.layer.calls_per_step = calls_per_step;
  result.measured = true;
  result.ms_per_call = ms_per_call;
  result.roofline_ms = roofline_ms;
  return result;
}

TEST(RooflineSummary, RanksByTimeLostPerStepNotByFraction) {
  const std::vector<LayerResult> results = {
      measured("half_speed_once", 1, 2.0, 1.0),        // 50%, loses 1 ms a step
      measured("half_speed_four_times", 4, 1.0, 0.5),  // 50%, loses 2 ms a step
      measured("nearly_there", 1, 10.0, 9.9),          // 99%, loses 0.1 ms a step
      LayerResult{"not_run", {}, false, 0, 0},
  };
  const std::string table = roofline_summary(results, 2);
  const auto four_times = table.find("half_speed_four_times"), once = table.find("half_speed_once");
  ASSERT_NE(four_times, std::string::npos) << table;
  ASSERT_NE(once, std::string::npos) << table;
  EXPECT_LT(four_times, once) << table;
  EXPECT_EQ(table.find("nearly_there"), std::string::npos) << "two rows asked for:\n" << table;
  // Its calls per step, ms per step, rate (12 MB in 1 ms), fraction of the roofline and ms lost per step.
  EXPECT_TRUE(std::regex_search(table, std::regex("half_speed_four_times +4 +4\\.000 +12 GB/s +50% +2\\.000\n")))
      << table;
  // 4 + 2 + 10 ms measured; 4·0.5 + 1 + 9.9 at the roofline.
  EXPECT_NE(table.find("all 3 measured: 16.000 ms per step, 12.900 ms at the roofline\n"), std::string::npos)
      << table;
}

TEST(RooflineSummary, IsEmptyWhenNothingWasMeasured) {
  EXPECT_EQ(roofline_summary({LayerResult{}}), "");
}

}  // namespace
}  // namespace r50
