// defines: TextTable
#pragma once

#include <string>
#include <vector>

namespace r50 {

// Columns of text aligned for a terminal: the first column left-aligned (names), the rest
// right-aligned (figures) unless `left_aligned` says otherwise; two spaces between columns, a
// header line, no trailing spaces.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, std::vector<bool> left_aligned = {});

  void add_row(std::vector<std::string> cells);  // as many cells as the header has
  std::string str() const;                       // every line ends in '\n'

 private:
  std::vector<std::vector<std::string>> rows_;  // the header first
  std::vector<bool> left_aligned_;
};

}  // namespace r50
