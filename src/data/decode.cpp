#include "data/decode.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

#ifdef R50_WITH_TURBOJPEG
#include <turbojpeg.h>
#endif
#ifdef R50_WITH_JPEGLIB
#include <jpeglib.h>  // after <cstdio>: it uses FILE and size_t without including their headers
#endif

#include "core/error.h"

// stb_image 2.27 trusts the sizes a file claims when it allocates: a PNG's chunk length or its
// inflated data can make it ask for gigabytes from a file of a few hundred bytes. Every buffer it
// takes comes from here, and one larger than an image of the size the header gave can need (set
// for the decode in progress, on its thread) is refused, which stb_image reports as out of memory.
// Its allocations are zeroed too: it leaves its decoder's state uninitialised, so that a JPEG
// lacking a quantization table, or a progressive JPEG lacking a scan, would decode from whatever
// the heap held before (other images' pixels among it), differently from one run to the next. On
// 512-pixel photos the zeroing cost was within the noise of measuring it.
namespace {
thread_local std::size_t stb_allocation_cap = 0;
thread_local std::size_t stb_refused_bytes = 0;  // the last request over the cap, for the message

void* stb_allocate(std::size_t bytes) {
  if (bytes > stb_allocation_cap) {
    stb_refused_bytes = bytes;
    return nullptr;
  }
  return std::calloc(1, bytes);
}

void* stb_reallocate(void* pointer, std::size_t bytes) {
  if (bytes > stb_allocation_cap) {
    stb_refused_bytes = bytes;
    return nullptr;
  }
  return std::realloc(pointer, bytes);
}
}  // namespace

// The whole of stb_image lives in this translation unit. STB_IMAGE_STATIC keeps its symbols
// private, so another copy elsewhere in a program cannot clash with this one. Only JPEG (the data
// set) and PNG (photos that fixtures borrow from Debian packages) are compiled: every other
// decoder would be attack surface that no caller needs. Files are read here, under a size cap, so
// stb's stdio layer goes too.
#define STBI_MALLOC(bytes) stb_allocate(bytes)
#define STBI_REALLOC(pointer, bytes) stb_reallocate(pointer, bytes)
#define STBI_FREE(pointer) std::free(pointer)
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
  if (stb_refused_bytes != 0) {
    return "it asks for " + std::to_string(stb_refused_bytes) + " bytes, more than an image of its size needs";
  }
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

// From inside a scan's entropy-coded data, the offset of the 0xFF that begins the next marker, or
// `size` where the data runs out first. There a 0xFF byte is stuffed (FF 00), a restart marker
// (FF D0..D7), fill (FF FF) or the start of the next segment's marker.
std::size_t end_of_entropy_coded_data(const std::uint8_t* data, std::size_t size, std::size_t p) {
  while (p < size) {
    const void* ff = std::memchr(data + p, 0xFF, size - p);
    if (!ff) return size;
    p = static_cast<std::size_t>(static_cast<const std::uint8_t*>(ff) - data);
    if (p + 1 >= size) return size;
    const std::uint8_t next = data[p + 1];
    if (next != 0x00 && next != 0xFF && !(next >= 0xD0 && next <= 0xD7)) return p;
    p += next == 0xFF ? 1 : 2;
  }
  return size;
}

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
    p = end_of_entropy_coded_data(data, size, p);  // after a start of scan
    if (p >= size) return JpegEnd::truncated;
  }
  return JpegEnd::truncated;
}

// stb_image 2.27 (Debian 12's, which R50_DEPS_DIR copies too) trusts the sixteen code counts of a
// Huffman table: counts that add up to more than 256 codes make it write past the table's arrays
// (2.28 checks them). libjpeg refuses such a table, and so must we before stb_image reads the
// file. The walk reaches every DHT segment that stb_image would read: segment to segment by their
// lengths, over entropy-coded data to the next marker and, as stb_image does, over stray bytes to
// the next 0xFF, up to the end-of-image marker. Bytes past the end read as 0, as in stb_image.
bool jpeg_huffman_counts_fit(const std::uint8_t* data, std::size_t size) {
  const auto byte = [&](std::size_t at) -> std::size_t { return at < size ? data[at] : 0; };
  std::size_t p = 2;  // after SOI
  while (p < size) {
    if (data[p] != 0xFF) {
      ++p;
      continue;
    }
    while (p < size && data[p] == 0xFF) ++p;
    if (p >= size) break;
    const std::uint8_t marker = data[p++];
    if (marker == 0xD9) break;
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    const std::size_t length = byte(p) << 8 | byte(p + 1);
    if (marker == 0xC4) {
      // Tables one after another while the segment's length lasts, as stb_image reads them: a
      // class and id byte, sixteen counts, then that many symbols.
      std::int64_t left = static_cast<std::int64_t>(length) - 2;
      for (std::size_t table = p + 2; left > 0;) {
        std::size_t codes = 0;
        for (std::size_t i = 1; i <= 16; ++i) codes += byte(table + i);
        if (codes > 256) return false;
        left -= static_cast<std::int64_t>(17 + codes);
        table += 17 + codes;
      }
    }
    p += std::max<std::size_t>(length, 2);
    if (marker == 0xDA) p = end_of_entropy_coded_data(data, size, p);
  }
  return true;
}

// stb_image 2.27 copies an empty first IDAT chunk into the image data buffer before it has
// allocated one: a memcpy from a null pointer, undefined behaviour even for zero bytes. No encoder
// writes such a chunk, and such a file is refused before stb_image reads it. Chunks are found as
// stb_image reads them: each by its length, from the signature to IEND.
bool png_first_idat_empty(const std::uint8_t* data, std::size_t size) {
  for (std::size_t p = 8; p + 8 <= size;) {
    const std::size_t length = std::size_t{data[p]} << 24 | std::size_t{data[p + 1]} << 16 |
                               std::size_t{data[p + 2]} << 8 | data[p + 3];
    if (std::memcmp(data + p + 4, "IDAT", 4) == 0) return length == 0;
    if (std::memcmp(data + p + 4, "IEND", 4) == 0) return false;
    p += 12 + length;  // length, type, data, CRC
  }
  return false;
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
// A fresh decompressor for every image (making one costs under a microsecond): a handle that has
// decoded keeps the quantization and Huffman tables of the files before, and a JPEG that lacks
// one of its own would be decoded with them, so that its pixels, or whether it decodes at all,
// would depend on which images the same thread decoded before.
struct TurboJpegDecompressor {
  tjhandle handle = tjInitDecompress();
  ~TurboJpegDecompressor() {
    if (handle) tjDestroy(handle);
  }
  TurboJpegDecompressor() = default;
  TurboJpegDecompressor(const TurboJpegDecompressor&) = delete;
  TurboJpegDecompressor& operator=(const TurboJpegDecompressor&) = delete;
};

// libjpeg-turbo with flags 0: the accurate integer DCT and fancy (smooth) chroma upsampling, as PIL
// decodes (so torchvision sees the same pixels). Its warnings ("Corrupt JPEG data: 3 extraneous
// bytes before marker") leave a whole picture behind and are not failures, as in PIL; truncation
// was refused before. CMYK and YCCK files (which libjpeg cannot turn into RGB), and files it
// cannot read at all, are left to stb_image (nullopt), so this build accepts every file that the
// stb_image build does and words their refusals the same way.
std::optional<DecodeResult> decode_with_turbojpeg(const std::uint8_t* data, std::size_t size,
                                                  const DecodeLimits& limits) {
  TurboJpegDecompressor decompressor;
  if (!decompressor.handle) return std::nullopt;
  const auto succeeded = [&](int status) {
    return status == 0 || tjGetErrorCode(decompressor.handle) == TJERR_WARNING;
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

void check_region(const CropBox& box, int width, int height) {
  R50_CHECK(box.width > 0 && box.height > 0 && box.x >= 0 && box.y >= 0 && box.x <= width - box.width &&
                box.y <= height - box.height,
            "decode_image_region: the region ", box.width, "x", box.height, " at (", box.x, ", ", box.y,
            ") is not inside the ", width, "x", height, " image");
}

#ifdef R50_WITH_JPEGLIB
// libjpeg reports a fatal error by calling error_exit, which by default ends the process: ours
// jumps back to the setjmp of the call in progress instead. Warnings (corrupt but decodable data)
// are ignored, as in the TurboJPEG path, and nothing is printed.
struct JpegErrorManager {
  jpeg_error_mgr fields;  // first, so that a j_common_ptr's err can be cast back to this struct
  std::jmp_buf jump;
};

[[noreturn]] void jump_back(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<JpegErrorManager*>(cinfo->err)->jump, 1);
}
void ignore_message(j_common_ptr, int) {}
void print_nothing(j_common_ptr) {}

// A fresh decompressor for every image, as for TurboJPEG: one reused would keep the tables of the
// files before.
struct LibjpegDecompressor {
  jpeg_decompress_struct cinfo{};
  JpegErrorManager error{};
  LibjpegDecompressor() {
    cinfo.err = jpeg_std_error(&error.fields);
    error.fields.error_exit = jump_back;
    error.fields.emit_message = ignore_message;
    error.fields.output_message = print_nothing;
    jpeg_create_decompress(&cinfo);
  }
  ~LibjpegDecompressor() { jpeg_destroy_decompress(&cinfo); }
  LibjpegDecompressor(const LibjpegDecompressor&) = delete;
  LibjpegDecompressor& operator=(const LibjpegDecompressor&) = delete;
};

// The two steps that call into libjpeg, each a plain function whose locals are trivial, so that
// the longjmp of an error skips no destructor. Each returns false where libjpeg gave up, the
// decompressor then reset.
bool read_jpeg_header(jpeg_decompress_struct& cinfo, const std::uint8_t* data, std::size_t size) {
  auto* error = reinterpret_cast<JpegErrorManager*>(cinfo.err);
  if (setjmp(error->jump)) {
    jpeg_abort_decompress(&cinfo);
    return false;
  }
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  return true;
}

// Rows [box.y, box.y + box.height) and columns [box.x, box.x + box.width) into `out` (RGB,
// box.width per row), with TurboJPEG's settings for flags 0 (accurate integer IDCT, fancy
// upsampling), so the pixels are those of the whole decode. jpeg_crop_scanline widens the columns
// it is given to whole iMCUs (it returns the first column and the width it kept);
// jpeg_skip_scanlines entropy-decodes the rows above the box and keeps the context rows that
// vertical upsampling needs (4:2:0, 4:4:0 match the whole decode without a margin). Only the
// box's rows (and its iMCU columns) go through the IDCT, upsampling and colour conversion.
bool decompress_jpeg_box(jpeg_decompress_struct& cinfo, const CropBox& box, std::uint8_t* out) {
  auto* error = reinterpret_cast<JpegErrorManager*>(cinfo.err);
  if (setjmp(error->jump)) {
    jpeg_abort_decompress(&cinfo);
    return false;
  }
  cinfo.out_color_space = JCS_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  // One iMCU more on each side than the box: libjpeg-turbo 2.1 upsamples the first and last chroma
  // column it keeps as if they were the image's edges, so that horizontally subsampled chroma
  // (4:2:0, 4:2:2) would differ there from the whole decode. A whole iMCU beside the box gives
  // every column of the box its true neighbours. Three in a progressive JPEG: where its scans
  // leave coefficients unknown (a file cut short or damaged), libjpeg estimates them from the two
  // blocks on either side, and it takes the first block it keeps for those to its left, so that
  // the first two blocks of each component (two iMCUs of subsampled chroma) differ from the whole
  // decode, and upsampling reaches one chroma sample further.
  const int imcu_width = cinfo.max_h_samp_factor * cinfo.min_DCT_scaled_size;
  const int margin = (cinfo.progressive_mode ? 3 : 1) * imcu_width;
  const int image_width = static_cast<int>(cinfo.output_width);
  const int left = std::max(box.x - margin, 0);
  const int right = std::min(box.x + box.width + margin, image_width);
  JDIMENSION first_column = static_cast<JDIMENSION>(left), columns = static_cast<JDIMENSION>(right - left);
  if (right - left < image_width) jpeg_crop_scanline(&cinfo, &first_column, &columns);
  const std::size_t skip = static_cast<std::size_t>(box.x) - first_column;
  JSAMPARRAY row = (*cinfo.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&cinfo), JPOOL_IMAGE,
                                               static_cast<JDIMENSION>(3 * columns), 1);
  if (box.y > 0) jpeg_skip_scanlines(&cinfo, static_cast<JDIMENSION>(box.y));
  for (int r = 0; r < box.height; ++r) {
    if (jpeg_read_scanlines(&cinfo, row, 1) != 1) {
      jpeg_abort_decompress(&cinfo);
      return false;
    }
    std::memcpy(out + std::size_t{3} * box.width * r, row[0] + 3 * skip, std::size_t{3} * box.width);
  }
  // The rows below are entropy-decoded too, and the file read to its end, so that damage anywhere
  // fails or warns as in the whole decode (bench_loader measured no cost against stopping here).
  // Asked to skip to the image's last row, jpeg_skip_scanlines stops reading the file instead (a
  // second frame header after the scan would go unseen): the last row is read, not skipped.
  if (cinfo.output_scanline + 1 < cinfo.output_height) {
    jpeg_skip_scanlines(&cinfo, cinfo.output_height - cinfo.output_scanline - 1);
  }
  if (cinfo.output_scanline < cinfo.output_height && jpeg_read_scanlines(&cinfo, row, 1) != 1) {
    jpeg_abort_decompress(&cinfo);
    return false;
  }
  jpeg_finish_decompress(&cinfo);
  return true;
}

// The region of a JPEG through libjpeg; nullopt for what it refuses (CMYK, YCCK, unreadable
// headers, errors while decoding), which the caller decodes whole instead. `chosen` is set once
// choose_region has been called, so that the caller never calls it twice.
std::optional<DecodeResult> decode_region_with_libjpeg(const std::uint8_t* data, std::size_t size,
                                                       const DecodeLimits& limits,
                                                       const ChooseRegion& choose_region, CropBox* region,
                                                       bool* chosen) {
  LibjpegDecompressor decompressor;
  jpeg_decompress_struct& cinfo = decompressor.cinfo;
  if (!read_jpeg_header(cinfo, data, size)) return std::nullopt;
  const int width = static_cast<int>(cinfo.image_width), height = static_cast<int>(cinfo.image_height);
  std::optional<DecodeResult> refused = refuse_before_decoding(data, size, width, height, limits);
  if (refused || cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK ||
      cinfo.data_precision != 8) {
    jpeg_abort_decompress(&cinfo);
    return refused;
  }
  CropBox box;
  try {
    *chosen = true;
    box = choose_region(width, height);
    check_region(box, width, height);
  } catch (...) {
    jpeg_abort_decompress(&cinfo);
    throw;
  }
  DecodeResult result;
  result.image.width = box.width;
  result.image.height = box.height;
  result.image.pixels.resize(std::size_t{3} * box.width * box.height);
  if (!decompress_jpeg_box(cinfo, box, result.image.pixels.data())) return std::nullopt;
  *region = box;
  return result;
}
#endif

// The file's bytes, under the size cap; on failure, empty with `error` set.
std::vector<std::uint8_t> read_image_file(const std::string& path, std::string* error) {
  const auto fail = [&](std::string why) {
    *error = std::move(why);
    return std::vector<std::uint8_t>();
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::string("cannot read: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat info {};
  if (::fstat(fd, &info) != 0) return fail(std::string("cannot read: ") + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) return fail("cannot read: not a regular file");
  const auto size = static_cast<std::size_t>(info.st_size);
  if (size > kMaxFileBytes) {
    return fail("cannot read: " + std::to_string(size) + " bytes is over the " +
                std::to_string(kMaxFileBytes >> 20) + " MiB cap on an image file");
  }

  std::vector<std::uint8_t> bytes(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = ::read(fd, bytes.data() + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return fail(std::string("cannot read: ") + std::strerror(errno));
    if (got == 0) break;  // the file shrank while being read: decode what is there
    done += static_cast<std::size_t>(got);
  }
  bytes.resize(done);
  return bytes;
}

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
#ifdef R50_WITH_JPEGLIB
  // TurboJPEG refuses some files that libjpeg reads, such as sampling factors whose subsampling it
  // cannot name (3x1): the region decoder would accept them, so the whole decode must too.
  if (is_jpeg(data, size)) {
    CropBox whole;
    bool chosen = false;
    std::optional<DecodeResult> decoded = decode_region_with_libjpeg(
        data, size, limits, [](int width, int height) { return CropBox{0, 0, width, height}; }, &whole, &chosen);
    if (decoded) return std::move(*decoded);
  }
#endif

  if (is_jpeg(data, size) && !jpeg_huffman_counts_fit(data, size)) {
    return failure("corrupt or unsupported JPEG (bad DHT header)");
  }
  if (is_png(data, size) && png_first_idat_empty(data, size)) {
    return failure("corrupt or unsupported PNG (empty first IDAT chunk)");
  }

  [[maybe_unused]] StbGuard guard;
  // Not every failure path of stb sets a reason: clear the last one, never to repeat it.
  stbi__g_failure_reason = nullptr;
  stb_refused_bytes = 0;
  // Reading a header takes the decoder's state alone (a JPEG's tables: about 20 KB).
  stb_allocation_cap = std::size_t{1} << 20;
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
  // The largest buffer of an image this size: a 16-bit RGBA PNG's inflated rows (8 bytes a pixel)
  // or a JPEG's component planes, padded to whole MCUs (32 pixels at most) and with the room
  // stb_image's doubling may leave; the file's compressed data gathered in one piece.
  stb_allocation_cap = std::size_t{16} * (std::size_t(width) + 32) * (std::size_t(height) + 32) + 2 * size +
                       (std::size_t{1} << 20);

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
  std::string error;
  const std::vector<std::uint8_t> bytes = read_image_file(path, &error);
  if (!error.empty()) return failure(error);
  return decode_image_memory(bytes.data(), bytes.size(), limits);
}

DecodeResult decode_image_region_memory(const std::uint8_t* data, std::size_t size,
                                        const DecodeLimits& limits, const ChooseRegion& choose_region,
                                        CropBox* region) {
  bool chosen = false;
#ifdef R50_WITH_JPEGLIB
  if (size > 0 && size <= static_cast<std::size_t>(INT_MAX) && is_jpeg(data, size)) {
    std::optional<DecodeResult> decoded =
        decode_region_with_libjpeg(data, size, limits, choose_region, region, &chosen);
    if (decoded) return std::move(*decoded);
  }
#endif
  DecodeResult whole = decode_image_memory(data, size, limits);
  if (!whole.ok()) return whole;
  const int width = whole.image.width, height = whole.image.height;
  if (!chosen) check_region(choose_region(width, height), width, height);
  *region = CropBox{0, 0, width, height};
  return whole;
}

DecodeResult decode_image_region_file(const std::string& path, const DecodeLimits& limits,
                                      const ChooseRegion& choose_region, CropBox* region) {
  std::string error;
  const std::vector<std::uint8_t> bytes = read_image_file(path, &error);
  if (!error.empty()) return failure(error);
  return decode_image_region_memory(bytes.data(), bytes.size(), limits, choose_region, region);
}

bool jpeg_region_decoding() {
#ifdef R50_WITH_JPEGLIB
  return true;
#else
  return false;
#endif
}

}  // namespace r50
