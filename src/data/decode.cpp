#include "data/decode.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

#ifdef R50_WITH_TURBOJPEG
#include <turbojpeg.h>
#endif

// The whole of stb_image lives in this translation unit. STB_IMAGE_STATIC keeps its symbols
// private, so another copy elsewhere in a program cannot clash with this one. Only JPEG (the data
// set) and PNG (photos that fixtures borrow from Debian packages) are compiled: every other
// decoder would be attack surface that no caller needs. Files are read here, under a size cap, so
// stb's stdio layer goes too.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#include <stb_image.h>

namespace r50 {
namespace {

// Food-101's largest image is well under a megabyte; anything this big is not a photo to train on.
constexpr std::size_t kMaxFileBytes = std::size_t{64} << 20;

// stb_image reports why a decode failed through a pointer that is thread-local where the copy
// defines STBI_THREAD_LOCAL (Debian's 2.27 does, in C++11), so workers decode side by side. With
// an older copy it is a plain global that workers would race on: there every decode takes a lock.
#ifdef STBI_THREAD_LOCAL
struct StbGuard {};
#else
std::mutex stb_mutex;
struct StbGuard {
  std::lock_guard<std::mutex> lock{stb_mutex};
};
#endif

std::string failure_reason() {
  const char* reason = stbi_failure_reason();
  return reason && *reason ? reason : "unknown reason";
}

// The signatures stb_image itself tests for: SOI for JPEG, the eight-byte PNG signature.
bool is_jpeg(const std::uint8_t* data, std::size_t size) {
  return size >= 2 && data[0] == 0xFF && data[1] == 0xD8;
}

bool is_png(const std::uint8_t* data, std::size_t size) {
  static const std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return size >= 8 && std::memcmp(data, signature, 8) == 0;
}

const char* format_name(const std::uint8_t* data, std::size_t size) {
  if (is_jpeg(data, size)) return "JPEG";
  if (is_png(data, size)) return "PNG";
  return nullptr;
}

enum class JpegEnd { complete, truncated, unknown };

// stb_image decodes a JPEG cut short without complaint: it pads the missing entropy-coded data
// with zeros and returns a picture whose lower part is grey. PIL (so torchvision) refuses such a
// file as truncated, and so do we: the marker segments are walked from SOI, skipping each
// segment by its length and each scan's entropy-coded data up to the next marker, and the data
// must reach the end-of-image marker (FF D9). Bytes after it are allowed. Where the structure is
// not what the walk expects, it answers `unknown` and leaves the verdict to the decoder.
JpegEnd jpeg_end(const std::uint8_t* data, std::size_t size) {
  std::size_t p = 2;  // after SOI
  while (p < size) {
    if (data[p] != 0xFF) return JpegEnd::unknown;
    while (p < size && data[p] == 0xFF) ++p;  // a marker may be preceded by fill bytes
    if (p >= size) return JpegEnd::truncated;
    const std::uint8_t marker = data[p++];
    if (marker == 0xD9) return JpegEnd::complete;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // TEM, RSTn: no length
    if (p + 2 > size) return JpegEnd::truncated;
    const std::size_t length = std::size_t{data[p]} << 8 | data[p + 1];
    if (length < 2) return JpegEnd::unknown;
    p += length;
    if (marker != 0xDA) continue;
    // Start of scan: entropy-coded data, where a 0xFF byte is either stuffed (FF 00), a restart
    // marker (FF D0..D7), fill (FF FF) or the start of the next segment's marker.
    for (;;) {
      if (p >= size) return JpegEnd::truncated;
      const void* ff = std::memchr(data + p, 0xFF, size - p);
      if (!ff) return JpegEnd::truncated;
      p = static_cast<std::size_t>(static_cast<const std::uint8_t*>(ff) - data);
      if (p + 1 >= size) return JpegEnd::truncated;
      const std::uint8_t next = data[p + 1];
      if (next != 0x00 && next != 0xFF && !(next >= 0xD0 && next <= 0xD7)) break;
      p += next == 0xFF ? 1 : 2;
    }
  }
  return JpegEnd::truncated;
}

std::string megapixels(std::int64_t pixels) {
  std::ostringstream out;
  out << static_cast<double>(pixels) / 1e6;
  return out.str();
}

DecodeResult failure(std::string error) {
  DecodeResult result;
  result.error = std::move(error);
  return result;
}

// The verdicts every decoder reaches the same way once the header has given the image's size.
std::optional<DecodeResult> refuse_before_decoding(const std::uint8_t* data, std::size_t size, int width,
                                                   int height, const DecodeLimits& limits) {
  const std::int64_t pixels = std::int64_t{width} * height;
  if (pixels > limits.max_pixels) {
    return failure(std::to_string(width) + "x" + std::to_string(height) + " pixels is over the " +
                   megapixels(limits.max_pixels) + " MP budget");
  }
  if (is_jpeg(data, size) && jpeg_end(data, size) == JpegEnd::truncated) {
    return failure("truncated (no end-of-image marker)");
  }
  return std::nullopt;
}

#ifdef R50_WITH_TURBOJPEG
// One decompressor per thread: a TurboJPEG handle is not to be shared, and making one per image
// would allocate libjpeg's state each time.
struct TurboJpegDecompressor {
  tjhandle handle = tjInitDecompress();
  ~TurboJpegDecompressor() {
    if (handle) tjDestroy(handle);
  }
  // After an error in tjDecompressHeader3, TurboJPEG 2.1 leaves the handle inside the header it
  // gave up on, and every later file fails with "two SOI markers": a fresh handle starts clean.
  void renew() {
    if (handle) tjDestroy(handle);
    handle = tjInitDecompress();
  }
};

// libjpeg-turbo with flags 0: the accurate integer DCT and fancy (smooth) chroma upsampling, as PIL
// decodes (so torchvision sees the same pixels). Its warnings ("Corrupt JPEG data: 3 extraneous
// bytes before marker") leave a whole picture behind and are not failures, as in PIL; truncation
// was refused before. CMYK and YCCK files (which libjpeg cannot turn into RGB), and files it
// cannot read at all, are left to stb_image (nullopt), so this build accepts every file that the
// stb_image build does and words their refusals the same way.
std::optional<DecodeResult> decode_with_turbojpeg(const std::uint8_t* data, std::size_t size,
                                                  const DecodeLimits& limits) {
  thread_local TurboJpegDecompressor decompressor;
  if (!decompressor.handle) return std::nullopt;
  const auto succeeded = [&](int status) {
    if (status == 0 || tjGetErrorCode(decompressor.handle) == TJERR_WARNING) return true;
    decompressor.renew();
    return false;
  };
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (!succeeded(
          tjDecompressHeader3(decompressor.handle, data, size, &width, &height, &subsampling, &colorspace))) {
    return std::nullopt;
  }
  if (std::optional<DecodeResult> refused = refuse_before_decoding(data, size, width, height, limits)) {
    return refused;
  }
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) return std::nullopt;

  DecodeResult result;
  result.image.width = width;
  result.image.height = height;
  result.image.pixels.resize(std::size_t{3} * width * height);
  if (!succeeded(tjDecompress2(decompressor.handle, data, size, result.image.pixels.data(), width, 0, height,
                               TJPF_RGB, 0))) {
    return std::nullopt;
  }
  return result;
}
#endif

}  // namespace

const char* jpeg_decoder_name() {
#ifdef R50_WITH_TURBOJPEG
  return "libjpeg-turbo";
#else
  return "stb_image";
#endif
}

DecodeResult decode_image_memory(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits) {
  if (size == 0) return failure("empty file");
  if (size > static_cast<std::size_t>(INT_MAX)) return failure("over 2 GiB, more than stb_image reads");
  const int length = static_cast<int>(size);
  const char* format = format_name(data, size);
  if (!format) return failure("not an image (neither JPEG nor PNG)");
#ifdef R50_WITH_TURBOJPEG
  if (is_jpeg(data, size)) {
    std::optional<DecodeResult> decoded = decode_with_turbojpeg(data, size, limits);
    if (decoded) return std::move(*decoded);
  }
#endif

  [[maybe_unused]] StbGuard guard;
  // Not every failure path of stb sets a reason: clear the last one, never to repeat it.
  stbi__g_failure_reason = nullptr;
  // The header alone, checked against the budget before any pixel is decoded, through the
  // format's own reader (stb's internals, in this translation unit): stbi_info_from_memory would
  // try every format in turn and replace the reader's reason ("only 8-bit") with "unknown image
  // type".
  int width = 0, height = 0, channels = 0;
  stbi__context header;
  stbi__start_mem(&header, data, length);
  const bool readable = is_jpeg(data, size) ? stbi__jpeg_info(&header, &width, &height, &channels)
                                            : stbi__png_info(&header, &width, &height, &channels);
  if (!readable) {
    return failure(std::string("corrupt or unsupported ") + format + " (" + failure_reason() + ")");
  }
  if (std::optional<DecodeResult> refused = refuse_before_decoding(data, size, width, height, limits)) {
    return std::move(*refused);
  }

  int decoded_width = 0, decoded_height = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels_rgb(
      stbi_load_from_memory(data, length, &decoded_width, &decoded_height, &channels, 3), stbi_image_free);
  if (!pixels_rgb) {
    return failure(std::string("corrupt or unsupported ") + format + " (" + failure_reason() + ")");
  }
  DecodeResult result;
  result.image.width = decoded_width;
  result.image.height = decoded_height;
  const std::size_t bytes = std::size_t{3} * decoded_width * decoded_height;
  result.image.pixels.assign(pixels_rgb.get(), pixels_rgb.get() + bytes);
  return result;
}

DecodeResult decode_image_file(const std::string& path, const DecodeLimits& limits) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure(std::string("cannot read: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat info {};
  if (::fstat(fd, &info) != 0) return failure(std::string("cannot read: ") + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) return failure("cannot read: not a regular file");
  const auto size = static_cast<std::size_t>(info.st_size);
  if (size > kMaxFileBytes) {
    return failure("cannot read: " + std::to_string(size) + " bytes is over the " +
                   std::to_string(kMaxFileBytes >> 20) + " MiB cap on an image file");
  }

  std::vector<std::uint8_t> bytes(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = ::read(fd, bytes.data() + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return failure(std::string("cannot read: ") + std::strerror(errno));
    if (got == 0) break;  // the file shrank while being read: decode what is there
    done += static_cast<std::size_t>(got);
  }
  return decode_image_memory(bytes.data(), done, limits);
}

}  // namespace r50
