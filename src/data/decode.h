// defines: Image, DecodeLimits, DecodeResult, CropBox, decode_image_memory, decode_image_file,
//          decode_image_region_memory, decode_image_region_file, jpeg_decoder_name,
//          jpeg_region_decoding
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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
// jpeg_decoder_name; then its libjpeg API, where built in, for files TurboJPEG refuses), with
// stb_image deciding the files it cannot read (CMYK among them); PNGs, and every JPEG in a build
// without it, go to stb_image. Each image is decoded as if alone: nothing of the files decoded
// before carries over. Thread-safe.
DecodeResult decode_image_memory(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits = {});
DecodeResult decode_image_file(const std::string& path, const DecodeLimits& limits = {});

// A rectangle of an image, in pixels: columns [x, x + width), rows [y, y + height).
struct CropBox {
  int x = 0, y = 0, width = 0, height = 0;
};

// Decodes only the part of the image that `choose_region` asks for, once it knows the size: the
// function is called at most once, with the whole image's width and height (after the pixel
// budget and the truncation check; before any pixel is decoded where the region is decoded
// alone), and returns a rectangle inside the image (else the call throws). On success the image
// holds `*region`'s pixels, byte for byte those of decode_image_* of the whole file cropped to
// it. Where libjpeg-turbo's libjpeg API was built in (jpeg_region_decoding), the rows of a JPEG
// outside the region are only entropy-decoded, and its columns are cut to whole iMCUs around the
// region; PNGs, JPEGs it refuses (CMYK) and every file in other builds are decoded whole,
// `*region` then being the whole image. Errors as decode_image_*: the whole file is still read.
using ChooseRegion = std::function<CropBox(int width, int height)>;
DecodeResult decode_image_region_memory(const std::uint8_t* data, std::size_t size,
                                        const DecodeLimits& limits, const ChooseRegion& choose_region,
                                        CropBox* region);
DecodeResult decode_image_region_file(const std::string& path, const DecodeLimits& limits,
                                      const ChooseRegion& choose_region, CropBox* region);

// The JPEG decoder compiled in: "libjpeg-turbo" or "stb_image", for reports.
const char* jpeg_decoder_name();

// Whether decode_image_region_* decodes a JPEG's region alone (libjpeg-turbo's libjpeg API was
// built in) rather than the whole image.
bool jpeg_region_decoding();

}  // namespace r50
