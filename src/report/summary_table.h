// defines: RunRecord, SummaryRow, summarize_runs, summary_table, phase_table
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

// Where one benchmark's step went, from its per-step counters: the device's forward_ms (with the
// loss), backward_ms and optimizer_ms (CUDA events on a GPU) as shares of ms_per_step. End to end
// (the row has data_wait_ms), ms_per_step is the host's clock, and what the device phases leave of
// it is "device idle": the device waited for data or for the host. The host's own wait for the
// loader (data_wait_ms) and the copy stream's uploads (copy_ms) follow as "overlapped": they run
// beside the compute, so they add up with nothing. Compute alone, the step is the device phases'
// sum, and wall_ms_per_step (the host's clock over the same steps) shows the launch overhead.
// Under --cuda-graph the row has graph_step_ms, the whole step's device time, in place of the
// three phases, which no mark inside a graph can split: a note says they are not available.
// "" when the row has no phase counters.
std::string phase_table(const SummaryRow& row);

}  // namespace r50
