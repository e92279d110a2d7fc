#include "data/food101_index.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "core/error.h"

namespace r50 {
namespace {

namespace fs = std::filesystem;

const char* split_file(Split split) { return split == Split::Train ? "meta/train.txt" : "meta/test.txt"; }

[[noreturn]] void throw_not_found(const fs::path& root, const fs::path& missing, const char* what) {
  R50_THROW("Food-101 data not found: ", missing.string(), " ", what, ".\n",
            "Expected the Food-101 layout under ", root.string(), ":\n",
            "  meta/classes.txt   one class per line (apple_pie, ...)\n",
            "  meta/train.txt     one image per line, class/id (apple_pie/1005649)\n",
            "  meta/test.txt      the same for the test split\n",
            "  images/<class>/<id>.jpg\n",
            "scripts/get_food101.sh downloads and unpacks the real data set.");
}

void require_directory(const fs::path& root, const fs::path& path) {
  std::error_code error;
  if (!fs::exists(path, error)) throw_not_found(root, path, "does not exist");
  if (!fs::is_directory(path, error)) throw_not_found(root, path, "is not a directory");
}

// Lines without their terminator, CR (Windows line endings) and surrounding whitespace removed;
// `path` names the stream in messages.
std::vector<std::string> read_lines(std::istream& in, const fs::path& path) {
  std::vector<std::string> lines;
  const char* space = " \t\r\n\v\f";
  for (std::string line; std::getline(in, line);) {
    const std::size_t first = line.find_first_not_of(space);
    if (first == std::string::npos) {
      lines.emplace_back();
    } else {
      lines.push_back(line.substr(first, line.find_last_not_of(space) - first + 1));
    }
  }
  if (in.bad()) R50_THROW("cannot read ", path.string(), ": ", std::strerror(errno));
  return lines;
}

std::ifstream open_index_file(const fs::path& root, const fs::path& path) {
  std::error_code error;
  if (!fs::exists(path, error)) throw_not_found(root, path, "does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) R50_THROW("cannot read ", path.string(), ": ", std::strerror(errno));
  return in;
}

// Whether `path`'s components begin with all of `base`'s: both are canonical, so no ".." or link
// can make a path look under `base` when it is not.
bool is_under(const fs::path& base, const fs::path& path) {
  return std::mismatch(base.begin(), base.end(), path.begin(), path.end()).first == base.end();
}

bool escapes_lexically(const std::string& line) {
  if (line.front() == '/') return true;
  const fs::path path(line);
  return std::any_of(path.begin(), path.end(), [](const fs::path& part) { return part == ".."; });
}

// Whether an image path, resolved through every link on the way, stays inside images/ (or where
// images/ itself leads: it may be a link to a bigger disk). Resolving each path from scratch costs
// about six system calls per line, 0.4 s for Food-101's 75,750; directories are resolved once
// and cached, so a line costs one lstat of its file, which is followed only when it is a link.
// Where the path does not exist, its missing tail is taken as written: ".." is refused before.
class Containment {
 public:
  explicit Containment(const fs::path& images) : images_(images), canonical_images_(fs::canonical(images)) {}

  bool contains(const std::string& line) {
    const fs::path path = images_ / (line + ".jpg");
    std::error_code missing;  // a file that does not exist is no link, and the loader's business
    std::error_code error;
    fs::path resolved;
    if (fs::is_symlink(fs::symlink_status(path, missing))) {
      resolved = fs::weakly_canonical(path, error);
    } else {
      const fs::path& directory = resolve_directory(path.parent_path(), error);
      resolved = directory / path.filename();
    }
    return !error && is_under(canonical_images_, resolved);
  }

 private:
  const fs::path& resolve_directory(const fs::path& directory, std::error_code& error) {
    auto found = directories_.find(directory.native());
    if (found == directories_.end()) {
      found = directories_.emplace(directory.native(), fs::weakly_canonical(directory, error)).first;
      if (error) {
        directories_.erase(found);
        static const fs::path none;
        return none;
      }
    }
    return found->second;
  }

  fs::path images_, canonical_images_;
  std::unordered_map<std::string, fs::path> directories_;
};

// Why an index line cannot be used, or empty when it can. The lexical checks come first; the
// filesystem is asked only about lines that pass them. A missing image is not a reason: the
// loader counts it when it cannot read it.
std::string reject_reason(const std::string& line, const std::unordered_map<std::string, int>& labels,
                          Containment& containment) {
  if (line.empty()) return "blank";
  if (escapes_lexically(line)) return "escapes the data directory";
  const std::string class_name = line.substr(0, line.find('/'));
  if (labels.count(class_name) == 0) return "unknown class '" + class_name + "'";
  if (!containment.contains(line)) return "escapes the data directory";
  return {};
}

}  // namespace

std::string Food101Index::image_path(const Food101Entry& entry) const {
  return (fs::path(root) / "images" / (entry.name + ".jpg")).string();
}

Food101Index read_food101_index(const std::string& root, Split split, const IndexOptions& options) {
  const fs::path root_path(root);
  require_directory(root_path, root_path);
  require_directory(root_path, root_path / "meta");
  require_directory(root_path, root_path / "images");
  std::ifstream classes = open_index_file(root_path, root_path / "meta/classes.txt");
  std::ifstream lines = open_index_file(root_path, root_path / split_file(split));
  return parse_food101_index(root, classes, lines, split, options);
}

Food101Index parse_food101_index(const std::string& root, std::istream& classes, std::istream& lines, Split split,
                                 const IndexOptions& options) {
  const fs::path root_path(root);
  const fs::path images = root_path / "images";
  require_directory(root_path, images);

  Food101Index index;
  index.root = root;
  std::unordered_map<std::string, int> labels;
  const std::vector<std::string> class_lines = read_lines(classes, root_path / "meta/classes.txt");
  for (std::size_t i = 0; i < class_lines.size(); ++i) {
    const std::string& name = class_lines[i];
    if (name.empty()) continue;
    R50_CHECK(labels.count(name) == 0, (root_path / "meta/classes.txt").string(), " line ", i + 1,
              ": class '", name, "' is listed twice");
    labels.emplace(name, static_cast<int>(index.classes.size()));
    index.classes.push_back(name);
  }

  Containment containment(images);
  const char* file = split_file(split);
  const std::vector<std::string> split_lines = read_lines(lines, root_path / file);
  for (std::size_t i = 0; i < split_lines.size(); ++i) {
    const std::string& line = split_lines[i];
    const std::string why = reject_reason(line, labels, containment);
    if (why.empty()) {
      index.entries.push_back({line, labels.at(line.substr(0, line.find('/')))});
      continue;
    }
    const int line_number = static_cast<int>(i + 1);
    if (options.strict) {
      R50_THROW((root_path / file).string(), " line ", line_number, ": '", line, "' ", why);
    }
    index.skipped.push_back({file, line_number, line, why});
  }
  return index;
}

}  // namespace r50
