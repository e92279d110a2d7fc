// defines: encode_jpeg, encode_png, smooth_image, write_file, TempDir
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/decode.h"

namespace r50::testing {

// Encodes 8-bit pixels, row-major [height, width, channels] (1: gray, 3: RGB), with
// stb_image_write, in memory.
std::vector<std::uint8_t> encode_jpeg(const std::uint8_t* pixels, int width, int height, int channels,
                                      int quality);
std::vector<std::uint8_t> encode_png(const std::uint8_t* pixels, int width, int height, int channels);
inline std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality = 95) {
  return encode_jpeg(image.pixels.data(), image.width, image.height, 3, quality);
}

// Gentle gradients in each channel: what JPEG compresses with little loss.
Image smooth_image(int width, int height);

void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);
void write_file(const std::filesystem::path& path, const std::string& text);

// A fresh directory under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace r50::testing
