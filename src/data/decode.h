// defines: Image, DecodeLimits, DecodeResult, decode_image_memory, decode_image_file, jpeg_decoder_name
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace r50 {

// 8-bit RGB, row-major [height, width, 3].
struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;
};

struct DecodeLimits {
  // Checked against the header before any pixel is decoded, so that a hostile header cannot make
  // the decoder allocate gigabytes.
  std::int64_t max_pixels = 50'000'000;
};

// A file that cannot be decoded is data, not a bug: the result says why instead of throwing.
struct DecodeResult {
  Image image;
  std::string error;  // empty on success: "empty file", "not an image (...)", "truncated (...)",
                      // "65500x65500 pixels is over the 50 MP budget", "cannot read: ..."
  bool ok() const { return error.empty(); }
};

// JPEG (baseline, progressive and, with libjpeg-turbo, arithmetic-coded) and PNG; always RGB, a
// grayscale image expanded. JPEGs go to libjpeg-turbo where the build found it (TurboJPEG, see
// jpeg_decoder_name), with stb_image deciding the files it cannot read (CMYK among them); PNGs,
// and every JPEG in a build without it, go to stb_image. Thread-safe.
DecodeResult decode_image_memory(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits = {});
DecodeResult decode_image_file(const std::string& path, const DecodeLimits& limits = {});

// The JPEG decoder compiled in: "libjpeg-turbo" or "stb_image", for reports.
const char* jpeg_decoder_name();

}  // namespace r50
