#include "data/loader_fixtures.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

namespace r50 {
namespace fs = std::filesystem;

LoaderTree::LoaderTree() {
  fs::create_directories(dir_.path() / "meta");
  fs::create_directories(dir_.path() / "images");
}

LoaderTree::~LoaderTree() = default;

std::string LoaderTree::image_name(int k) const {
  return "images/c" + std::to_string(k) + "/" + std::to_string(k) + ".jpg";
}

std::string LoaderTree::image_path(int k) const { return (dir_.path() / image_name(k)).string(); }

std::string LoaderTree::add_entry() {
  const int k = count_++;
  train_lines_ += "c" + std::to_string(k) + "/" + std::to_string(k) + "\n";
  fs::create_directories(dir_.path() / "images" / ("c" + std::to_string(k)));
  return image_path(k);
}

void LoaderTree::add_photo(int width, int height) {
  const int pattern = count_;
  add_file(jpeg(width, height, pattern));
}

void LoaderTree::add_file(const std::string& bytes) { testing::write_file(add_entry(), bytes); }

void LoaderTree::add_missing() { add_entry(); }

void LoaderTree::add_index_line(const std::string& text) { train_lines_ += text + "\n"; }

void LoaderTree::add_fifo() {
  const std::string path = add_entry();
  R50_CHECK(mkfifo(path.c_str(), 0600) == 0, "cannot make the named pipe ", path);
}

Food101Index LoaderTree::index() const {
  std::string classes;
  for (int k = 0; k < count_; ++k) classes += "c" + std::to_string(k) + "\n";
  testing::write_file(dir_.path() / "meta/classes.txt", classes);
  testing::write_file(dir_.path() / "meta/train.txt", train_lines_);
  return read_food101_index(root(), Split::Train);
}

std::string LoaderTree::jpeg(int width, int height, int pattern, int quality) {
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width) * height * 3);
  Rng rng(static_cast<std::uint64_t>(pattern));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int smooth =
            (x * (pattern + 2 + c) + y * (3 * pattern + 1 + 2 * c)) * 255 / (width + height);
        const int noise = static_cast<int>(rng.below(24));
        pixels[(static_cast<std::size_t>(y) * width + x) * 3 + c] =
            static_cast<std::uint8_t>((smooth + noise + 60 * c) & 255);
      }
    }
  }
  const std::vector<std::uint8_t> bytes =
      testing::encode_jpeg(pixels.data(), width, height, 3, quality);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace r50
