#include "results_reporter.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>
#include <unistd.h>

#include "core/host.h"

namespace r50 {
namespace {

// The value of the last --name=value among `flags`; `fallback` when absent.
std::string flag_value(const std::vector<char*>& flags, const std::string& name, const std::string& fallback) {
  std::string value = fallback;
  const std::string prefix = "--" + name + "=";
  for (std::size_t i = 1; i < flags.size(); ++i) {
    const std::string flag = flags[i];
    if (flag.rfind(prefix, 0) == 0) value = flag.substr(prefix.size());
  }
  return value;
}

bool is_true(const std::string& value) {
  return value == "true" || value == "yes" || value == "1" || value == "on";
}

bool stdout_is_a_color_terminal() {
  const char* term = std::getenv("TERM");
  return isatty(fileno(stdout)) && term != nullptr && std::strcmp(term, "dumb") != 0;
}

}  // namespace

ResultsReporter::ResultsReporter(std::unique_ptr<benchmark::BenchmarkReporter> display)
    : display_(std::move(display)) {
  json_.SetOutputStream(&json_text_);
  json_.SetErrorStream(&json_text_);
}

bool ResultsReporter::ReportContext(const Context& context) {
  json_.ReportContext(context);
  return display_->ReportContext(context);
}

void ResultsReporter::ReportRuns(const std::vector<Run>& runs) {
  display_->ReportRuns(runs);
  json_.ReportRuns(runs);
  for (const Run& run : runs) {
    if (run.error_occurred) continue;
    RunRecord record;
    record.name = run.run_name.function_name;
    record.aggregate = run.run_type == Run::RT_Aggregate ? run.aggregate_name : "";
    record.repetitions = static_cast<int>(run.repetitions);
    for (const auto& [name, counter] : run.counters) record.counters[name] = counter.value;
    records_.push_back(std::move(record));
  }
}

void ResultsReporter::Finalize() {
  display_->Finalize();
  json_.Finalize();
}

std::unique_ptr<benchmark::BenchmarkReporter> make_display_reporter(const std::vector<char*>& benchmark_flags) {
  const std::string format = flag_value(benchmark_flags, "benchmark_format", "console");
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
  if (format == "csv") {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return std::make_unique<benchmark::CSVReporter>();
#pragma GCC diagnostic pop
  }
  const std::string color = flag_value(benchmark_flags, "benchmark_color", "auto");
  int options = benchmark::ConsoleReporter::OO_None;
  if (color == "auto" ? stdout_is_a_color_terminal() : is_true(color)) options |= benchmark::ConsoleReporter::OO_Color;
  if (is_true(flag_value(benchmark_flags, "benchmark_counters_tabular", "false"))) {
    options |= benchmark::ConsoleReporter::OO_Tabular;
  }
  return std::make_unique<benchmark::ConsoleReporter>(static_cast<benchmark::ConsoleReporter::OutputOptions>(options));
}

void add_run_context(const DeviceInfo& device, const RunSettings& settings, const BuildInfo& build) {
  setenv("TZ", "UTC", 1);
  tzset();
  for (const auto& [key, value] :
       run_context(device, settings, build, host_cpu_model(), std::thread::hardware_concurrency())) {
    benchmark::AddCustomContext(key, value);
  }
}

}  // namespace r50
