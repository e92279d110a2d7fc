// defines: ResultsReporter, make_display_reporter, add_run_context
#pragma once

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "report/run_context.h"
#include "report/summary_table.h"

namespace r50 {

// Google Benchmark's display reporter, wrapped so that the same runs are also kept as Google
// Benchmark's JSON (the --out file's content, identical to what --benchmark_out=F.json writes)
// and as RunRecords (for the summary table). It is passed as the display reporter, so it works
// whether or not --benchmark_out is given; Google Benchmark still writes --benchmark_out itself.
class ResultsReporter final : public benchmark::BenchmarkReporter {
 public:
  explicit ResultsReporter(std::unique_ptr<benchmark::BenchmarkReporter> display);

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  std::string json() const { return json_text_.str(); }  // empty when nothing ran
  const std::vector<RunRecord>& records() const { return records_; }

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> display_;
  std::ostringstream json_text_;
  benchmark::JSONReporter json_;
  std::vector<RunRecord> records_;
};

// The display reporter Google Benchmark would make from these flags: --benchmark_format
// (console, json or csv) and, for the console, --benchmark_color (auto: when stdout is a terminal)
// and --benchmark_counters_tabular.
std::unique_ptr<benchmark::BenchmarkReporter> make_display_reporter(const std::vector<char*>& benchmark_flags);

// The results' context (report/run_context.h) for Google Benchmark's JSON, with the host's CPU,
// and its own "date" made UTC.
void add_run_context(const DeviceInfo& device, const RunSettings& settings, const BuildInfo& build);

}  // namespace r50
