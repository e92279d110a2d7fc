// defines: skipped_lines_warning, training_data_report, bad_data_report, printable
#pragma once

#include <string>

#include "data/food101_index.h"
#include "data/loader.h"

namespace r50 {

// What bench_resnet50 says about the data a run could not use. Every bad entry is counted
// exactly; each is named (an image with why it failed, an index line as file:line) up to
// kNamedBadEntries images and as many lines per split; past that, the names stop and the counts
// by reason take over, so that a copy of Food-101 that is missing 40,000 files gets a few
// screens, not 40,000 lines. Names come from the data set itself: they are made printable first.

// For the start of a run: how many lines of the split's index were skipped, and why, in one line;
// empty when none was. The lines themselves are named in the report at the end.
std::string skipped_lines_warning(const Food101Index& index);

// After training: "data: N images decoded, M skipped, the training loop waited for data X% of
// the measured time", then bad_data_report of the training split.
std::string training_data_report(const LoaderStats& stats, double data_wait_fraction);

// The bad images and skipped index lines of one split (`split`: "training split", "test split"),
// images sorted by name, lines in file order; empty when there were none.
std::string bad_data_report(const LoaderStats& stats, const std::string& split);

// `text` safe to print on a terminal: control bytes (a name could hold an escape sequence that
// clears the screen) as \xNN, and at most 200 bytes, the cut marked with "...".
std::string printable(const std::string& text);

}  // namespace r50
