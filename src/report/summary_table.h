// defines: RunRecord, SummaryRow, summarize_runs, summary_table
#pragma once

#include <map>
#include <string>
#include <vector>

namespace r50 {

// One row of a benchmark's results, as Google Benchmark reports it, in plain terms.
struct RunRecord {
  std::string name;       // the registered name: "train_step/synthetic/fp32/bs:64/img:224"
  std::string aggregate;  // "" for a measured run; "mean", "median", "stddev", "cv" for the aggregates
  int repetitions = 1;    // of the benchmark this row belongs to
  std::map<std::string, double> counters;  // images_per_second, ms_per_step, ... (DESIGN.md)
};

// A benchmark's figures for the summary: with repetitions, the median of each counter and its
// coefficient of variation (stddev / mean); with one run, that run's counters and no cv.
struct SummaryRow {
  std::string name;
  int repetitions = 1;
  std::map<std::string, double> values;
  std::map<std::string, double> cv;
};

// One row per benchmark, in the order the benchmarks first appear in `runs`.
std::vector<SummaryRow> summarize_runs(const std::vector<RunRecord>& runs);

// The table a person reads at the end of a run: benchmark, images/s, ms per step, the Food-101
// epoch time that rate implies, peak allocated and reserved memory, and the share of the time the
// training loop waited for data ("-" where the benchmark has no loader). With repetitions, figures
// are medians and images/s and ms/step carry "±cv%"; a line before the table says so.
std::string summary_table(const std::vector<SummaryRow>& rows);

}  // namespace r50
