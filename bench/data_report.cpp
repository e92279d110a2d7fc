#include "data_report.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

namespace r50 {
namespace {

constexpr std::size_t kPrintableBytes = 200;
constexpr std::size_t kReasonsInWarning = 3;
// Reasons listed one by one where names were cut; the rest are pooled in one line.
constexpr std::size_t kReasonsListed = 20;

using ReasonCounts = std::vector<std::pair<std::string, std::uint64_t>>;

// A count for a person: 40000 as "40,000".
std::string count(std::uint64_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

std::string counted(std::uint64_t n, const char* singular, const char* plural) {
  return count(n) + " " + (n == 1 ? singular : plural);
}

// The most common first; equal counts in the order first seen.
ReasonCounts by_count(ReasonCounts reasons) {
  std::stable_sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return reasons;
}

ReasonCounts line_reasons(const std::vector<SkippedLine>& lines) {
  ReasonCounts reasons;
  for (const SkippedLine& line : lines) {
    auto found = std::find_if(reasons.begin(), reasons.end(), [&](const auto& r) { return r.first == line.why; });
    if (found == reasons.end()) {
      reasons.emplace_back(line.why, 1);
    } else {
      ++found->second;
    }
  }
  return by_count(reasons);
}

std::string line_name(const SkippedLine& line) {
  std::string name = line.file + ":" + std::to_string(line.line) + ": " + line.why;
  if (!line.text.empty()) name += ": '" + line.text + "'";
  return name;
}

// "<heading> (every one named):" and a line per name; where `named` holds fewer than `total`,
// the heading says so and every reason's count follows the names.
std::string section(const std::string& heading, const std::vector<std::string>& named, std::uint64_t total,
                    const ReasonCounts& reasons) {
  const bool cut = named.size() < total;
  std::string out = heading;
  out += cut ? " (the first " + count(named.size()) + " found are named; all " + count(total) +
                   " are counted by reason below):\n"
             : " (every one named):\n";
  for (const std::string& name : named) out += "  " + printable(name) + "\n";
  if (!cut) return out;
  out += "  by reason:\n";
  const ReasonCounts sorted = by_count(reasons);
  std::uint64_t others = 0;
  for (std::size_t i = kReasonsListed; i < sorted.size(); ++i) others += sorted[i].second;
  char figure[32];
  for (std::size_t i = 0; i < sorted.size() && i < kReasonsListed; ++i) {
    std::snprintf(figure, sizeof figure, "%12s", count(sorted[i].second).c_str());
    out += std::string("  ") + figure + "  " + printable(sorted[i].first) + "\n";
  }
  if (others > 0) {
    std::snprintf(figure, sizeof figure, "%12s", count(others).c_str());
    out += std::string("  ") + figure + "  for " + count(sorted.size() - kReasonsListed) + " other reasons\n";
  }
  return out;
}

}  // namespace

std::string printable(const std::string& text) {
  std::string out;
  std::size_t end = std::min(text.size(), kPrintableBytes);
  // Cut between characters, not inside a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (end < text.size() && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  for (std::size_t i = 0; i < end; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += text[i];
    }
  }
  if (end < text.size()) out += "...";
  return out;
}

std::string skipped_lines_warning(const Food101Index& index) {
  if (index.skipped.empty()) return {};
  const ReasonCounts reasons = line_reasons(index.skipped);
  std::string out = "warning: " + index.skipped.front().file + ": " +
                    counted(index.skipped.size(), "line", "lines") + " skipped (";
  for (std::size_t i = 0; i < reasons.size() && i < kReasonsInWarning; ++i) {
    out += (i ? ", " : "") + printable(reasons[i].first) + ": " + count(reasons[i].second);
  }
  if (reasons.size() > kReasonsInWarning) out += ", " + count(reasons.size() - kReasonsInWarning) + " other reasons";
  return out + "); each is named in the report at the end\n";
}

std::string training_data_report(const LoaderStats& stats, double data_wait_fraction) {
  char line[256];
  std::snprintf(line, sizeof line,
                "data: %llu images decoded, %llu skipped, the training loop waited for data %.1f%% of the "
                "measured time\n",
                static_cast<unsigned long long>(stats.images_decoded),
                static_cast<unsigned long long>(stats.images_skipped), 100.0 * data_wait_fraction);
  return line + bad_data_report(stats, "training split");
}

std::string bad_data_report(const LoaderStats& stats, const std::string& split) {
  std::string out;
  if (stats.bad_images > 0) {
    std::vector<std::string> names = stats.skipped_examples;
    std::sort(names.begin(), names.end());
    std::string heading = split + ": skipped " + counted(stats.bad_images, "bad image", "bad images");
    // Each epoch that reaches a bad image skips it again.
    if (stats.images_skipped > stats.bad_images) heading += ", " + count(stats.images_skipped) + " times in all";
    out += section(heading, names, stats.bad_images, stats.bad_image_reasons);
  }
  const std::vector<SkippedLine>& lines = stats.index_lines_skipped;
  if (!lines.empty()) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < lines.size() && i < kNamedBadEntries; ++i) names.push_back(line_name(lines[i]));
    out += section(split + ": skipped " + counted(lines.size(), "index line", "index lines"), names, lines.size(),
                   line_reasons(lines));
  }
  return out;
}

}  // namespace r50
