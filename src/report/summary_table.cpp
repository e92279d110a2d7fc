#include "report/summary_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/bytes.h"
#include "report/progress.h"
#include "report/text_table.h"

namespace r50 {
namespace {

SummaryRow& row_named(std::vector<SummaryRow>& rows, const std::string& name) {
  for (SummaryRow& row : rows) {
    if (row.name == name) return row;
  }
  rows.push_back(SummaryRow{name, 1, {}, {}});
  return rows.back();
}

// `value` with `decimals` decimals, and "±cv%" when the row has a finite cv for `counter`.
std::string figure(const SummaryRow& row, const std::string& counter, int decimals) {
  const auto value = row.values.find(counter);
  if (value == row.values.end()) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value->second);
  std::string cell = text;
  const auto cv = row.cv.find(counter);
  if (cv != row.cv.end() && std::isfinite(cv->second)) {
    std::snprintf(text, sizeof text, " ±%.1f%%", 100.0 * cv->second);
    cell += text;
  }
  return cell;
}

std::string bytes_cell(const SummaryRow& row, const std::string& counter) {
  const auto value = row.values.find(counter);
  return value == row.values.end() ? "-" : format_bytes(static_cast<std::size_t>(value->second));
}

}  // namespace

std::vector<SummaryRow> summarize_runs(const std::vector<RunRecord>& runs) {
  std::vector<SummaryRow> rows;
  std::map<std::string, bool> has_median;
  for (const RunRecord& run : runs) {
    SummaryRow& row = row_named(rows, run.name);
    row.repetitions = run.repetitions;
    if (run.aggregate == "median") {
      row.values = run.counters;
      has_median[run.name] = true;
    } else if (run.aggregate == "cv") {
      row.cv = run.counters;
    } else if (run.aggregate.empty() && !has_median[run.name]) {
      row.values = run.counters;  // the latest run, until a median replaces it
    }
  }
  return rows;
}

std::string summary_table(const std::vector<SummaryRow>& rows) {
  TextTable table({"benchmark", "images/s", "ms/step", "Food-101 epoch", "peak allocated", "peak reserved",
                   "data wait"});
  int repetitions = 1;
  for (const SummaryRow& row : rows) {
    const auto epoch = row.values.find("food101_epoch_seconds");
    const auto wait = row.values.find("data_wait_fraction");
    char wait_text[32] = "-";
    if (wait != row.values.end()) std::snprintf(wait_text, sizeof wait_text, "%.1f%%", 100.0 * wait->second);
    table.add_row({row.name, figure(row, "images_per_second", 2), figure(row, "ms_per_step", 1),
                   epoch == row.values.end() ? "-" : format_duration(epoch->second),
                   bytes_cell(row, "peak_allocated_bytes"), bytes_cell(row, "peak_reserved_bytes"), wait_text});
    if (row.repetitions > repetitions) repetitions = row.repetitions;
  }
  std::string caption;
  if (repetitions > 1) {
    caption = "median of " + std::to_string(repetitions) +
              " repetitions; ±: coefficient of variation (stddev / mean)\n";
  }
  return caption + table.str();
}

std::string phase_table(const SummaryRow& row) {
  const auto value = [&row](const std::string& counter) {
    const auto found = row.values.find(counter);
    return found == row.values.end() ? -1.0 : found->second;
  };
  const double step = value("ms_per_step");
  const bool graph = value("graph_step_ms") >= 0;  // --cuda-graph: the step as one timed launch
  if (step <= 0 || (value("forward_ms") < 0 && !graph)) return "";
  const auto cell = [](double number, const char* format) {
    char text[32];
    std::snprintf(text, sizeof text, format, number);
    return std::string(text);
  };
  TextTable table({"phase", "ms/step", "share"});
  double device = 0;
  const auto add = [&](const std::string& phase, const std::string& counter) {
    const double ms = value(counter);
    device += ms;
    table.add_row({phase, cell(ms, "%.2f"), cell(100.0 * ms / step, "%.1f%%")});
  };
  if (graph) {
    add("whole step (CUDA graph)", "graph_step_ms");
  } else {
    add("forward + loss", "forward_ms");
    add("backward", "backward_ms");
    add("optimizer", "optimizer_ms");
  }
  const bool end_to_end = value("data_wait_ms") >= 0;
  if (end_to_end) {
    // The host's clock against the device's: a hair below zero is the two clocks' skew, not time.
    const double idle = std::max(0.0, step - device);
    table.add_row({"device idle", cell(idle, "%.2f"), cell(100.0 * idle / step, "%.1f%%")});
  }
  table.add_row({"step", cell(step, "%.2f"), "100%"});
  if (end_to_end) {
    table.add_row({"data wait (host)", cell(value("data_wait_ms"), "%.2f"), "overlapped"});
    if (value("copy_ms") >= 0) table.add_row({"host-to-device copy", cell(value("copy_ms"), "%.2f"), "overlapped"});
  } else if (value("wall_ms_per_step") >= 0) {
    const double wall = value("wall_ms_per_step");
    table.add_row({"host's wall clock", cell(wall, "%.2f"), cell(100.0 * wall / step, "%.1f%%")});
  }
  const std::string note =
      graph ? "forward, backward and optimizer: not available under --cuda-graph (one graph launch per step)\n" : "";
  return row.name + ":\n" + table.str() + note;
}

}  // namespace r50
