// The Food-101 index parser (parse_food101_index, which read_food101_index reads the files
// through). The input is meta/classes.txt, a NUL byte, then meta/train.txt; the parser checks
// lines against a real images/ folder made once per process, holding a class folder, a link that
// stays inside and links that lead out, so that the containment checks meet every case. Beyond
// "no crash", it checks the index's promises: only r50::Error is thrown, every line is either an
// entry or a skipped line, an entry's label names its class, no entry leads out of images/, and
// --strict refuses exactly the indexes that have a skipped line.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "core/error.h"
#include "data/food101_index.h"
#include "fuzz_check.h"

namespace {

namespace fs = std::filesystem;

// root/images/apple_pie/ (a class folder), root/images/pie -> apple_pie (a link inside),
// root/images/out -> ../.. (a folder link out), root/images/apple_pie/passwd.jpg -> /etc/passwd
// (a file link out); removed at exit.
class Layout {
 public:
  Layout() {
    std::string pattern = (fs::temp_directory_path() / "food101_index_fuzzer.XXXXXX").string();
    FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr, "cannot make a temporary folder");
    root_ = pattern;
    fs::create_directories(root_ / "meta");
    fs::create_directories(root_ / "images/apple_pie");
    fs::create_directory_symlink("apple_pie", root_ / "images/pie");
    fs::create_directory_symlink("../..", root_ / "images/out");
    fs::create_symlink("/etc/passwd", root_ / "images/apple_pie/passwd.jpg");
  }
  ~Layout() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  std::string root() const { return root_.string(); }

  // Whether images/<name>.jpg, every link on the way followed, leads out of images/: the parser's
  // containment check made again the slow way, without its cache of folders. A path that cannot
  // be resolved (a name too long for the filesystem) cannot be opened either, so leads nowhere.
  bool escapes(const std::string& name) const {
    const fs::path images = fs::canonical(root_ / "images");
    std::error_code error;
    const fs::path resolved = fs::weakly_canonical(root_ / "images" / (name + ".jpg"), error);
    return !error && std::mismatch(images.begin(), images.end(), resolved.begin(), resolved.end()).first !=
                         images.end();
  }

 private:
  fs::path root_;
};

// Lines as the parser counts them: std::getline's, a last line without a terminator included.
std::size_t count_lines(const std::string& text) {
  std::size_t lines = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Layout layout;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t separator = input.find('\0');
  const std::string classes_text = input.substr(0, separator);
  const std::string lines_text = separator == std::string::npos ? "" : input.substr(separator + 1);

  r50::Food101Index index;
  try {
    std::istringstream classes(classes_text), lines(lines_text);
    index = r50::parse_food101_index(layout.root(), classes, lines, r50::Split::Train);
  } catch (const r50::Error&) {
    return 0;  // a class listed twice: refused with a message, as documented
  }
  FUZZ_CHECK(index.entries.size() + index.skipped.size() == count_lines(lines_text),
             "a line is neither an entry nor skipped");
  for (const r50::Food101Entry& entry : index.entries) {
    FUZZ_CHECK(entry.label >= 0 && static_cast<std::size_t>(entry.label) < index.classes.size(),
               "an entry's label is out of range");
    FUZZ_CHECK(entry.name.substr(0, entry.name.find('/')) == index.classes[entry.label],
               "an entry's label is not its class");
    FUZZ_CHECK(!layout.escapes(entry.name), "an entry escapes the data directory");
  }

  bool refused = false;
  try {
    std::istringstream classes(classes_text), lines(lines_text);
    r50::parse_food101_index(layout.root(), classes, lines, r50::Split::Train, r50::IndexOptions{true});
  } catch (const r50::Error&) {
    refused = true;
  }
  FUZZ_CHECK(refused == !index.skipped.empty(), "--strict does not refuse exactly the indexes with a bad line");
  return 0;
}
