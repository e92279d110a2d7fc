#include "data/jpeg_fixtures.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <stdexcept>

// The one definition of stb_image_write in data_test; other tests include <stb_image_write.h>
// without it.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace r50::testing {
namespace {

void append(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

}  // namespace

std::vector<std::uint8_t> encode_jpeg(const std::uint8_t* pixels, int width, int height, int channels,
                                      int quality) {
  std::vector<std::uint8_t> out;
  if (!stbi_write_jpg_to_func(append, &out, width, height, channels, pixels, quality)) {
    throw std::runtime_error("stbi_write_jpg_to_func failed");
  }
  return out;
}

std::vector<std::uint8_t> encode_png(const std::uint8_t* pixels, int width, int height, int channels) {
  std::vector<std::uint8_t> out;
  if (!stbi_write_png_to_func(append, &out, width, height, channels, pixels, width * channels)) {
    throw std::runtime_error("stbi_write_png_to_func failed");
  }
  return out;
}

Image smooth_image(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<std::size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      std::uint8_t* p = &image.pixels[(static_cast<std::size_t>(y) * width + x) * 3];
      p[0] = static_cast<std::uint8_t>(40 + 160 * x / std::max(width - 1, 1));
      p[1] = static_cast<std::uint8_t>(40 + 160 * y / std::max(height - 1, 1));
      p[2] = static_cast<std::uint8_t>(120 + 60 * (x + y) / std::max(width + height - 2, 1));
    }
  }
  return image;
}

void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  write_file(path, std::vector<std::uint8_t>(text.begin(), text.end()));
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("r50_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace r50::testing
