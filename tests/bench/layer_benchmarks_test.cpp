// A layer benchmark that fails marks itself failed and is counted, so that bench_layers can say
// so in its exit status; the others still run.
#include "layer_benchmarks.h"

#include <benchmark/benchmark.h>
#include <gtest/gtest.h>

#include "ops/backend.h"

namespace r50 {
namespace {

// Keeps Google Benchmark's report out of the test's output, noting whether a run failed.
class FailureNoter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) failed_ = failed_ || run.error_occurred;
  }
  bool failed() const { return failed_; }

 private:
  bool failed_ = false;
};

TEST(LayerBenchmark, OneThatThrowsIsMarkedFailedAndCounted) {
  std::unique_ptr<Backend> backend = make_cpu_backend(1);
  LayerShape wrong;  // a weight of 4 input channels for an input of 3: the op's check throws
  wrong.op = LayerOp::ConvForward;
  wrong.x = {1, 3, 8, 8};
  wrong.w = {2, 4, 3, 3};
  wrong.conv = Conv2dParams{1, 1};
  wrong.calls_per_step = 1;
  const DevicePeaks peaks{1.0, 1.0};
  LayerResult result;
  benchmark::RegisterBenchmark("layer_benchmark_with_a_wrong_shape", layer_benchmark, backend.get(), &wrong, &peaks,
                               &result)
      ->UseManualTime()
      ->Iterations(1);
  const int failed_before = failed_layer_benchmarks();
  FailureNoter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::ClearRegisteredBenchmarks();
  EXPECT_TRUE(reporter.failed());
  EXPECT_EQ(failed_layer_benchmarks(), failed_before + 1);
  EXPECT_FALSE(result.measured);
}

}  // namespace
}  // namespace r50
