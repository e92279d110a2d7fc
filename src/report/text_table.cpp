#include "report/text_table.h"

#include <algorithm>

#include "core/error.h"

namespace r50 {
namespace {

// Columns a string takes on a terminal: its UTF-8 code points ("±" is two bytes, one column).
std::size_t display_width(const std::string& text) {
  std::size_t width = 0;
  for (const char c : text) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return width;
}

}  // namespace

TextTable::TextTable(std::vector<std::string> header, std::vector<bool> left_aligned)
    : left_aligned_(std::move(left_aligned)) {
  if (left_aligned_.empty()) {
    left_aligned_.assign(header.size(), false);
    if (!left_aligned_.empty()) left_aligned_[0] = true;
  }
  R50_CHECK(left_aligned_.size() == header.size(), "a table of ", header.size(), " columns given ",
            left_aligned_.size(), " alignments");
  rows_.push_back(std::move(header));
}

void TextTable::add_row(std::vector<std::string> cells) {
  R50_CHECK(cells.size() == rows_.front().size(), "a table of ", rows_.front().size(), " columns given a row of ",
            cells.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::str() const {
  std::vector<std::size_t> widths(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  }
  std::string text;
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::string padding(widths[i] - display_width(row[i]), ' ');
      if (i > 0) line += "  ";
      line += left_aligned_[i] ? row[i] + padding : padding + row[i];
    }
    line.erase(line.find_last_not_of(' ') + 1);
    text += line + "\n";
  }
  return text;
}

}  // namespace r50
