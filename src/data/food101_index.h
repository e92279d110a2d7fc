// defines: Split, Food101Entry, SkippedLine, Food101Index, IndexOptions, read_food101_index,
//          parse_food101_index
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace r50 {

enum class Split { Train, Test };  // meta/train.txt, meta/test.txt

struct Food101Entry {
  std::string name;  // the index line, "apple_pie/1005649"
  int label;         // its class's position in meta/classes.txt
};

// An index line passed over, for the warning that names it.
struct SkippedLine {
  std::string file;  // "meta/train.txt"
  int line;          // 1-based
  std::string text;
  std::string why;   // "blank", "escapes the data directory", "unknown class 'x'"
};

// The Food-101 layout under `root`: meta/classes.txt (one class per line), meta/train.txt and
// meta/test.txt (lines "class/image_id"), images at images/<line>.jpg.
struct Food101Index {
  std::string root;
  std::vector<std::string> classes;
  std::vector<Food101Entry> entries;  // in the order of the split's file
  std::vector<SkippedLine> skipped;

  std::string image_path(const Food101Entry& entry) const;  // root/images/<name>.jpg
};

struct IndexOptions {
  bool strict = false;  // --strict: a bad line is an error instead of a warning
};

// Reads the index of one split. A missing directory or file is an error that names it, shows the
// layout expected and says that scripts/get_food101.sh fetches the real data set. Lines that are
// blank, escape the data directory ("..", absolute paths, links that lead outside `root`) or name
// a class not in classes.txt are skipped and listed in `skipped` (under `strict`, the first one
// throws instead). A listed image that does not exist is not checked here: the loader counts it
// when it cannot read it.
Food101Index read_food101_index(const std::string& root, Split split, const IndexOptions& options = {});

// read_food101_index's parser, given the text of meta/classes.txt and of the split's file: for
// callers that hold it elsewhere. `root` must still hold images/, which every line is checked
// against; messages name the files as if read from `root`.
Food101Index parse_food101_index(const std::string& root, std::istream& classes, std::istream& lines, Split split,
                                 const IndexOptions& options = {});

}  // namespace r50
