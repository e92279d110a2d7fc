#include "report/summary_table.h"

#include <sstream>

#include <gtest/gtest.h>

namespace r50 {
namespace {

const std::string kName = "train_step/synthetic/fp32/bs:64/img:224";

RunRecord run(const std::string& aggregate, double images_per_second, double ms_per_step, int repetitions = 3) {
  return RunRecord{kName, aggregate, repetitions,
                   {{"images_per_second", images_per_second},
                    {"ms_per_step", ms_per_step},
                    {"food101_epoch_seconds", 75'750 / images_per_second},
                    {"peak_allocated_bytes", 3.0 * (1 << 30)},
                    {"peak_reserved_bytes", 3.5 * (1 << 30)}}};
}

// The rows Google Benchmark reports for three repetitions: the runs, then mean, median, stddev, cv.
std::vector<RunRecord> three_repetitions() {
  return {run("", 700, 91.4), run("", 760, 84.2), run("", 750, 85.3), run("mean", 736.7, 87.0),
          run("median", 750, 85.3), run("stddev", 32.1, 3.9), run("cv", 0.0436, 0.0448)};
}

TEST(SummarizeRuns, TakesTheMedianAndTheCvOfRepetitions) {
  const std::vector<SummaryRow> rows = summarize_runs(three_repetitions());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].name, kName);
  EXPECT_EQ(rows[0].repetitions, 3);
  EXPECT_DOUBLE_EQ(rows[0].values.at("images_per_second"), 750);
  EXPECT_DOUBLE_EQ(rows[0].cv.at("images_per_second"), 0.0436);
}

TEST(SummarizeRuns, TakesTheOneRunWithoutRepetitions) {
  const std::vector<SummaryRow> rows = summarize_runs({run("", 755.7, 84.7, 1)});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_DOUBLE_EQ(rows[0].values.at("ms_per_step"), 84.7);
  EXPECT_TRUE(rows[0].cv.empty());
}

TEST(SummarizeRuns, KeepsOneRowPerBenchmarkInOrder) {
  RunRecord food101 = run("", 754.3, 84.8, 1);
  food101.name = "epoch/food101/fp32/bs:64/img:224";
  const std::vector<SummaryRow> rows = summarize_runs({run("", 755.7, 84.7, 1), food101});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, kName);
  EXPECT_EQ(rows[1].name, food101.name);
}

// 75,750 images at 755.7 images/s is 100 s; "-": no loader, so no data wait.
TEST(SummaryTable, ShowsOneAlignedRowPerBenchmark) {
  const std::string table = summary_table(summarize_runs({run("", 755.7, 84.7, 1)}));
  EXPECT_EQ(table,
            "benchmark                                images/s  ms/step  Food-101 epoch  peak allocated  "
            "peak reserved  data wait\n"
            "train_step/synthetic/fp32/bs:64/img:224    755.70     84.7      1 min 40 s        3.00 GiB       "
            "3.50 GiB          -\n");
}

TEST(SummaryTable, ShowsTheDataWaitOfAnEndToEndRun) {
  RunRecord food101 = run("", 754.3, 84.8, 1);
  food101.name = "epoch/food101/fp32/bs:64/img:224";
  food101.counters["data_wait_fraction"] = 0.029;
  const std::string table = summary_table(summarize_runs({food101}));
  EXPECT_NE(table.find("epoch/food101/fp32/bs:64/img:224"), std::string::npos);
  EXPECT_EQ(table.substr(table.rfind("  ") + 2), "2.9%\n");
}

TEST(SummaryTable, ShowsMediansWithTheirCvUnderRepetitions) {
  const std::string table = summary_table(summarize_runs(three_repetitions()));
  EXPECT_EQ(table.rfind("median of 3 repetitions", 0), 0u);
  EXPECT_NE(table.find("750.00 ±4.4%"), std::string::npos);
  EXPECT_NE(table.find("85.3 ±4.5%"), std::string::npos);
}

}  // namespace
}  // namespace r50

namespace r50 {
namespace {

SummaryRow end_to_end_row() {
  return SummaryRow{"epoch/food101/fp32/bs:64/img:224", 1,
                    {{"ms_per_step", 100.0},
                     {"data_wait_ms", 5.0},
                     {"copy_ms", 2.5},
                     {"forward_ms", 30.0},
                     {"backward_ms", 55.0},
                     {"optimizer_ms", 4.0}},
                    {}};
}

// The lines of `text` that start with `phase`, the cells split on runs of spaces.
std::vector<std::string> cells_of(const std::string& text, const std::string& phase) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(phase + "  ", 0) != 0) continue;
    std::vector<std::string> cells{phase};
    std::istringstream rest(line.substr(phase.size()));
    for (std::string cell; rest >> cell;) cells.push_back(cell);
    return cells;
  }
  return {};
}

TEST(PhaseTable, SharesTheDevicePhasesOfAnEndToEndStepAndCallsTheRestIdle) {
  const std::string table = phase_table(end_to_end_row());
  EXPECT_EQ(cells_of(table, "forward + loss"), (std::vector<std::string>{"forward + loss", "30.00", "30.0%"}));
  EXPECT_EQ(cells_of(table, "backward"), (std::vector<std::string>{"backward", "55.00", "55.0%"}));
  EXPECT_EQ(cells_of(table, "optimizer"), (std::vector<std::string>{"optimizer", "4.00", "4.0%"}));
  EXPECT_EQ(cells_of(table, "device idle"), (std::vector<std::string>{"device idle", "11.00", "11.0%"}));
  EXPECT_EQ(cells_of(table, "step"), (std::vector<std::string>{"step", "100.00", "100%"}));
  // The host's wait and the copies run beside the compute: they take no share.
  EXPECT_EQ(cells_of(table, "data wait (host)"), (std::vector<std::string>{"data wait (host)", "5.00", "overlapped"}));
  EXPECT_EQ(cells_of(table, "host-to-device copy"),
            (std::vector<std::string>{"host-to-device copy", "2.50", "overlapped"}));
  EXPECT_EQ(table.rfind(end_to_end_row().name + ":\n", 0), 0u);
}

TEST(PhaseTable, NeverShowsANegativeIdleTime) {
  SummaryRow row = end_to_end_row();
  row.values["backward_ms"] = 66.2;  // the device phases add up to 100.2 ms of a 100 ms step
  EXPECT_EQ(cells_of(phase_table(row), "device idle"), (std::vector<std::string>{"device idle", "0.00", "0.0%"}));
}

TEST(PhaseTable, ComputeAloneShowsTheWallClockInsteadOfIdleAndData) {
  const SummaryRow synthetic{"train_step/synthetic/fp32/bs:64/img:224", 1,
                             {{"ms_per_step", 89.0},
                              {"wall_ms_per_step", 90.78},
                              {"forward_ms", 30.0},
                              {"backward_ms", 55.0},
                              {"optimizer_ms", 4.0}},
                             {}};
  const std::string table = phase_table(synthetic);
  EXPECT_TRUE(cells_of(table, "data wait (host)").empty());
  EXPECT_TRUE(cells_of(table, "host-to-device copy").empty());
  EXPECT_TRUE(cells_of(table, "device idle").empty());
  EXPECT_EQ(cells_of(table, "host's wall clock"), (std::vector<std::string>{"host's wall clock", "90.78", "102.0%"}));
}

// --cuda-graph: a step is one graph launch, timed whole; the phases are said to be unavailable,
// not shown as zeros.
TEST(PhaseTable, ShowsACudaGraphStepWholeAndSaysThePhasesAreNotAvailable) {
  const SummaryRow graph{"epoch/food101/fp32/bs:64/img:224", 1,
                         {{"ms_per_step", 100.0}, {"data_wait_ms", 5.0}, {"copy_ms", 2.5}, {"graph_step_ms", 90.0}},
                         {}};
  const std::string table = phase_table(graph);
  EXPECT_EQ(cells_of(table, "whole step (CUDA graph)"),
            (std::vector<std::string>{"whole step (CUDA graph)", "90.00", "90.0%"}));
  EXPECT_EQ(cells_of(table, "device idle"), (std::vector<std::string>{"device idle", "10.00", "10.0%"}));
  EXPECT_TRUE(cells_of(table, "forward + loss").empty());
  EXPECT_NE(table.find("forward, backward and optimizer: not available under --cuda-graph"), std::string::npos)
      << table;
}

TEST(PhaseTable, IsEmptyWithoutPhaseCounters) {
  EXPECT_EQ(phase_table(SummaryRow{"x", 1, {{"ms_per_step", 10.0}}, {}}), "");
}

}  // namespace
}  // namespace r50
