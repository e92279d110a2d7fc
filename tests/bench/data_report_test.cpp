// What bench_resnet50 prints about bad data: every entry counted exactly and named up to a cap,
// past which counts by reason take over; names escaped before they reach a terminal.
#include "data_report.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace r50 {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// `n` distinct images that could not be read, as the loader would record them.
LoaderStats missing_images(std::uint64_t n) {
  LoaderStats stats;
  stats.images_skipped = stats.bad_images = n;
  for (std::uint64_t i = 0; i < n && i < kNamedBadEntries; ++i) {
    stats.skipped_examples.push_back("images/a/" + std::to_string(100000 + i) + ".jpg: cannot read: gone");
  }
  stats.bad_image_reasons = {{"cannot read: gone", n}};
  return stats;
}

TEST(DataReport, NothingSkippedSaysNothing) { EXPECT_EQ(bad_data_report(LoaderStats{}, "training split"), ""); }

TEST(DataReport, FewBadEntriesAreEachNamedImagesSortedLinesInFileOrder) {
  LoaderStats stats;
  stats.images_skipped = stats.bad_images = 2;
  stats.skipped_examples = {"images/b/2.jpg: empty file", "images/a/1.jpg: truncated (no end-of-image marker)"};
  stats.bad_image_reasons = {{"empty file", 1}, {"truncated (no end-of-image marker)", 1}};
  stats.index_lines_skipped = {{"meta/train.txt", 7, "", "blank"},
                               {"meta/train.txt", 3, "../x/1", "escapes the data directory"}};
  EXPECT_EQ(bad_data_report(stats, "training split"),
            "training split: skipped 2 bad images (every one named):\n"
            "  images/a/1.jpg: truncated (no end-of-image marker)\n"
            "  images/b/2.jpg: empty file\n"
            "training split: skipped 2 index lines (every one named):\n"
            "  meta/train.txt:7: blank\n"
            "  meta/train.txt:3: escapes the data directory: '../x/1'\n");
}

TEST(DataReport, ImagesSkippedInSeveralEpochsSayHowManyTimesInAll) {
  LoaderStats stats = missing_images(1);
  stats.images_skipped = 3;
  EXPECT_EQ(lines_of(bad_data_report(stats, "training split"))[0],
            "training split: skipped 1 bad image, 3 times in all (every one named):");
}

// 40,000 missing files: the first kNamedBadEntries named, then the exact count of each reason.
TEST(DataReport, PastTheCapNamesStopAndEveryReasonIsCounted) {
  LoaderStats stats = missing_images(40000);
  stats.bad_image_reasons = {{"cannot read: gone", 39990}, {"truncated (no end-of-image marker)", 10}};
  const std::vector<std::string> lines = lines_of(bad_data_report(stats, "training split"));
  ASSERT_EQ(lines.size(), 1 + kNamedBadEntries + 3);
  EXPECT_EQ(lines[0], "training split: skipped 40,000 bad images (the first " + std::to_string(kNamedBadEntries) +
                          " found are named; all 40,000 are counted by reason below):");
  EXPECT_EQ(lines[kNamedBadEntries + 1], "  by reason:");
  EXPECT_EQ(lines[kNamedBadEntries + 2], "        39,990  cannot read: gone");
  EXPECT_EQ(lines[kNamedBadEntries + 3], "            10  truncated (no end-of-image marker)");
}

TEST(DataReport, IndexLinesPastTheCapAreCountedByReason) {
  LoaderStats stats;
  for (int i = 0; i < 150; ++i) stats.index_lines_skipped.push_back({"meta/test.txt", i + 1, "", "blank"});
  const std::vector<std::string> lines = lines_of(bad_data_report(stats, "test split"));
  ASSERT_EQ(lines.size(), 1 + kNamedBadEntries + 2);
  EXPECT_EQ(lines[0], "test split: skipped 150 index lines (the first " + std::to_string(kNamedBadEntries) +
                          " found are named; all 150 are counted by reason below):");
  EXPECT_EQ(lines[kNamedBadEntries], "  meta/test.txt:" + std::to_string(kNamedBadEntries) + ": blank");
  EXPECT_EQ(lines.back(), "           150  blank");
}

TEST(DataReport, ReasonsPastTwentyArePooledInOneLine) {
  LoaderStats stats = missing_images(500);
  stats.bad_image_reasons.clear();
  for (int r = 0; r < 25; ++r) stats.bad_image_reasons.push_back({"reason " + std::to_string(r), 20});
  const std::vector<std::string> lines = lines_of(bad_data_report(stats, "training split"));
  ASSERT_EQ(lines.size(), 1 + kNamedBadEntries + 1 + 20 + 1);
  EXPECT_EQ(lines[kNamedBadEntries + 2], "            20  reason 0") << "equal counts keep their order";
  EXPECT_EQ(lines.back(), "           100  for 5 other reasons");
}

TEST(DataReport, TrainingReportLeadsWithTheCountsAndTheDataWait) {
  const std::vector<std::string> lines = lines_of(training_data_report(missing_images(2), 0.125));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0],
            "data: 0 images decoded, 2 skipped, the training loop waited for data 12.5% of the measured time");
}

TEST(DataReport, WarningCountsSkippedLinesByReasonMostCommonFirst) {
  Food101Index index;
  EXPECT_EQ(skipped_lines_warning(index), "");
  index.skipped = {{"meta/train.txt", 1, "", "blank"},
                   {"meta/train.txt", 2, "/x", "escapes the data directory"},
                   {"meta/train.txt", 3, "../y", "escapes the data directory"},
                   {"meta/train.txt", 4, "q/1", "unknown class 'q'"},
                   {"meta/train.txt", 5, "r/1", "unknown class 'r'"},
                   {"meta/train.txt", 6, "s/1", "unknown class 's'"}};
  EXPECT_EQ(skipped_lines_warning(index),
            "warning: meta/train.txt: 6 lines skipped (escapes the data directory: 2, blank: 1, unknown class "
            "'q': 1, 2 other reasons); each is named in the report at the end\n");
}

TEST(DataReport, PrintableEscapesControlBytesAndCutsLongText) {
  EXPECT_EQ(printable("images/a/\x1b[2J.jpg"), "images/a/\\x1b[2J.jpg");
  EXPECT_EQ(printable(std::string("tab\there\x7f")), "tab\\x09here\\x7f");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9") << "UTF-8 names stay as they are";
  EXPECT_EQ(printable(std::string(300, 'x')), std::string(200, 'x') + "...");
  // 199 bytes, then a two-byte character across the cut: it goes whole, not by half.
  EXPECT_EQ(printable(std::string(199, 'x') + "\xc3\xa9" + "tail"), std::string(199, 'x') + "...");
}

}  // namespace
}  // namespace r50
