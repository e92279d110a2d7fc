#include "cli/food101_fixture.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#ifdef R50_WITH_JPEGLIB
#include <csetjmp>
#include <cstdlib>
#include <jpeglib.h>  // after <cstdio>: it uses FILE and size_t without including their headers
#endif

#include "core/error.h"
#include "core/rng.h"
#include "data/decode.h"

// The writer's functions stay private to this file: nothing else in a binary can clash with them.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb_image_write.h>

namespace r50 {
namespace {

namespace fs = std::filesystem;

constexpr int kLongerSide = 512;  // Food-101's images were rescaled to this
constexpr const char* kDefaultPhoto = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg";
constexpr std::uint64_t kIdStream = ~0ull;  // the Rng key of a class's image ids
constexpr std::uint64_t kHostileStream = ~1ull;  // the Rng key of the hostile set's pictures
constexpr const char* kMarker = "fixture.txt";  // in meta/: says how the tree was made

// Food-101's classes.txt, so that a fixture reads like the real tree.
const char* const kFoodClasses[] = {
    "apple_pie", "baby_back_ribs", "baklava", "beef_carpaccio", "beef_tartare", "beet_salad",
    "beignets", "bibimbap", "bread_pudding", "breakfast_burrito", "bruschetta", "caesar_salad",
    "cannoli", "caprese_salad", "carrot_cake", "ceviche", "cheese_plate", "cheesecake",
    "chicken_curry", "chicken_quesadilla", "chicken_wings", "chocolate_cake", "chocolate_mousse",
    "churros", "clam_chowder", "club_sandwich", "crab_cakes", "creme_brulee", "croque_madame",
    "cup_cakes", "deviled_eggs", "donuts", "dumplings", "edamame", "eggs_benedict", "escargots",
    "falafel", "filet_mignon", "fish_and_chips", "foie_gras", "french_fries", "french_onion_soup",
    "french_toast", "fried_calamari", "fried_rice", "frozen_yogurt", "garlic_bread", "gnocchi",
    "greek_salad", "grilled_cheese_sandwich", "grilled_salmon", "guacamole", "gyoza", "hamburger",
    "hot_and_sour_soup", "hot_dog", "huevos_rancheros", "hummus", "ice_cream", "lasagna",
    "lobster_bisque", "lobster_roll_sandwich", "macaroni_and_cheese", "macarons", "miso_soup",
    "mussels", "nachos", "omelette", "onion_rings", "oysters", "pad_thai", "paella", "pancakes",
    "panna_cotta", "peking_duck", "pho", "pizza", "pork_chop", "poutine", "prime_rib",
    "pulled_pork_sandwich", "ramen", "ravioli", "red_velvet_cake", "risotto", "samosa", "sashimi",
    "scallops", "seaweed_salad", "shrimp_and_grits", "spaghetti_bolognese", "spaghetti_carbonara",
    "spring_rolls", "steak", "strawberry_shortcake", "sushi", "tacos", "takoyaki", "tiramisu",
    "tuna_tartare", "waffles"};
constexpr int kFoodClassCount = sizeof kFoodClasses / sizeof kFoodClasses[0];

std::string class_name(int index) {
  if (index < kFoodClassCount) return kFoodClasses[index];
  char name[32];
  std::snprintf(name, sizeof name, "class_%03d", index);
  return name;
}

// A photograph and its successive halvings, so that sampling never shrinks by 2 or more, where
// bilinear sampling alone would alias.
struct Photo {
  std::vector<Image> levels;
};

Image halve(const Image& image) {
  Image half;
  half.width = image.width / 2;
  half.height = image.height / 2;
  half.pixels.resize(static_cast<std::size_t>(half.width) * half.height * 3);
  const std::size_t row = static_cast<std::size_t>(image.width) * 3;
  for (int y = 0; y < half.height; ++y) {
    const std::uint8_t* top = image.pixels.data() + 2 * y * row;
    std::uint8_t* out = half.pixels.data() + static_cast<std::size_t>(y) * half.width * 3;
    for (int x = 0; x < half.width * 3; ++x) {
      const int c = x % 3, source = (x - c) * 2 + c;  // channel c of pixel 2·(x/3)
      out[x] = static_cast<std::uint8_t>(
          (top[source] + top[source + 3] + top[row + source] + top[row + source + 3] + 2) / 4);
    }
  }
  return half;
}

Photo load_photo(const std::string& path) {
  DecodeResult decoded = decode_image_file(path);
  R50_CHECK(decoded.ok(), "cannot use source photograph ", path, ": ", decoded.error);
  R50_CHECK(decoded.image.width >= 64 && decoded.image.height >= 64, "source photograph ", path, " is ",
            decoded.image.width, "x", decoded.image.height, ": it needs at least 64x64");
  Photo photo;
  photo.levels.push_back(std::move(decoded.image));
  while (std::min(photo.levels.back().width, photo.levels.back().height) >= 128) {
    photo.levels.push_back(halve(photo.levels.back()));
  }
  return photo;
}

// RGB at (x, y) in pixel-centre coordinates, bilinear, clamped to the edges.
void sample(const Image& image, float x, float y, float rgb[3]) {
  x = std::clamp(x, 0.0f, static_cast<float>(image.width - 1));
  y = std::clamp(y, 0.0f, static_cast<float>(image.height - 1));
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, image.width - 1), y1 = std::min(y0 + 1, image.height - 1);
  const float fx = x - x0, fy = y - y0;
  const std::uint8_t* row0 = image.pixels.data() + static_cast<std::size_t>(y0) * image.width * 3;
  const std::uint8_t* row1 = image.pixels.data() + static_cast<std::size_t>(y1) * image.width * 3;
  for (int c = 0; c < 3; ++c) {
    const float top = row0[x0 * 3 + c] + fx * (row0[x1 * 3 + c] - row0[x0 * 3 + c]);
    const float bottom = row1[x0 * 3 + c] + fx * (row1[x1 * 3 + c] - row1[x0 * 3 + c]);
    rgb[c] = top + fy * (bottom - top);
  }
}

std::uint8_t to_byte(float value) {
  return static_cast<std::uint8_t>(std::clamp(value + 0.5f, 0.0f, 255.0f));
}

// Pixels, row-major [height, width, channels] (1: gray, 3: RGB), and the JPEG quality drawn for them.
struct Picture {
  int width = 0, height = 0, channels = 3, quality = 90;
  std::vector<std::uint8_t> pixels;
};

// One fixture picture: crop, warp, colour and size drawn from `rng`.
Picture draw_picture(const std::vector<Photo>& photos, Rng& rng) {
  const Photo& photo = photos[rng.below(photos.size())];
  const Image& full = photo.levels[0];

  // Food-101 is mostly 4:3 landscape, then portrait and square, with a spread around them.
  const double pick = rng.uniform();
  const double aspect = pick < 0.45   ? 4.0 / 3
                        : pick < 0.65 ? 3.0 / 4
                        : pick < 0.75 ? 1.0
                                      : std::exp(rng.uniform(std::log(0.6), std::log(1.8)));
  const int width = aspect >= 1 ? kLongerSide : static_cast<int>(std::lround(kLongerSide * aspect));
  const int height = aspect >= 1 ? static_cast<int>(std::lround(kLongerSide / aspect)) : kLongerSide;

  // Output offsets from the image centre map to the source through scale · rotation · shear,
  // mirrored half the time.
  const double angle = rng.uniform(-6.0, 6.0) * M_PI / 180, shear = rng.uniform(-0.06, 0.06);
  const double mirror = rng.uniform() < 0.5 ? -1.0 : 1.0;
  const double m00 = mirror * std::cos(angle), m01 = std::cos(angle) * shear - std::sin(angle);
  const double m10 = mirror * std::sin(angle), m11 = std::sin(angle) * shear + std::cos(angle);
  // Half the extent of the warped output rectangle at scale 1; the scale keeps it inside the
  // source, shrunk to an area share of 1/2 to 1 of the largest that fits.
  const double extent_x = (std::abs(m00) * width + std::abs(m01) * height) / 2;
  const double extent_y = (std::abs(m10) * width + std::abs(m11) * height) / 2;
  const double largest = std::min(full.width / (2 * extent_x), full.height / (2 * extent_y));
  const double scale = largest * std::sqrt(rng.uniform(0.5, 1.0));
  const double centre_x = rng.uniform(scale * extent_x, full.width - scale * extent_x);
  const double centre_y = rng.uniform(scale * extent_y, full.height - scale * extent_y);

  // The halving where each output pixel spans 1 to 2 source pixels.
  std::size_t level = 0;
  while (level + 1 < photo.levels.size() && scale / double(1 << (level + 1)) >= 1.0) ++level;
  const Image& source = photo.levels[level];
  const double shrink = 1.0 / (1 << level);

  const float saturation = static_cast<float>(rng.uniform(0.6, 1.35));
  const double brightness = rng.uniform(0.85, 1.15);
  float gain[3], offset[3];
  for (int c = 0; c < 3; ++c) {
    gain[c] = static_cast<float>(brightness * rng.uniform(0.9, 1.1));
    offset[c] = static_cast<float>(rng.uniform(-12.0, 12.0));
  }
  Picture picture;
  const bool grayscale = rng.uniform() < 0.05;
  picture.quality = 70 + static_cast<int>(rng.below(26));
  picture.width = width;
  picture.height = height;
  picture.channels = grayscale ? 1 : 3;
  std::vector<std::uint8_t>& pixels = picture.pixels;
  pixels.resize(static_cast<std::size_t>(width) * height * picture.channels);
  // Source position (pixel-centre coordinates of the level) of output pixel (x, y):
  // (centre + scale · M · (x + 1/2 − width/2, y + 1/2 − height/2)) · shrink − 1/2.
  const double step_x0 = scale * m00 * shrink, step_x1 = scale * m10 * shrink;
  const double step_y0 = scale * m01 * shrink, step_y1 = scale * m11 * shrink;
  std::uint8_t* out = pixels.data();
  for (int y = 0; y < height; ++y) {
    const double dy = y + 0.5 - height / 2.0, dx = 0.5 - width / 2.0;
    double sx = centre_x * shrink - 0.5 + step_x0 * dx + step_y0 * dy;
    double sy = centre_y * shrink - 0.5 + step_x1 * dx + step_y1 * dy;
    for (int x = 0; x < width; ++x, sx += step_x0, sy += step_x1) {
      float rgb[3];
      sample(source, static_cast<float>(sx), static_cast<float>(sy), rgb);
      const float luma = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
      if (grayscale) {
        *out++ = to_byte(luma * gain[1] + offset[1]);
        continue;
      }
      for (int c = 0; c < 3; ++c)
        *out++ = to_byte((luma + saturation * (rgb[c] - luma)) * gain[c] + offset[c]);
    }
  }
  return picture;
}

void append_bytes(void* context, void* data, int size) {
  auto* bytes = static_cast<std::vector<std::uint8_t>*>(context);
  bytes->insert(bytes->end(), static_cast<std::uint8_t*>(data), static_cast<std::uint8_t*>(data) + size);
}

// A baseline JPEG, as Food-101's are (a gray picture has grey content in three components:
// stb_image_write writes no one-component JPEGs).
std::vector<std::uint8_t> encode_baseline(const Picture& picture) {
  std::vector<std::uint8_t> jpeg;
  R50_CHECK(stbi_write_jpg_to_func(append_bytes, &jpeg, picture.width, picture.height, picture.channels,
                                   picture.pixels.data(), picture.quality),
            "JPEG encoding failed");
  return jpeg;
}

struct Rendered {
  std::vector<std::uint8_t> jpeg;
  std::int64_t pixels = 0;
  bool grayscale = false;
};

// One fixture image: a picture drawn from `rng`, encoded as a JPEG.
Rendered render(const std::vector<Photo>& photos, Rng& rng) {
  const Picture picture = draw_picture(photos, rng);
  return {encode_baseline(picture), std::int64_t{picture.width} * picture.height, picture.channels == 1};
}

void write_file(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  R50_CHECK(out.good(), "cannot write ", path.string());
}

void write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  write_file(path, std::vector<std::uint8_t>(text.begin(), text.end()));
}

// Distinct image ids for one class, as Food-101's are: numbers of six or seven digits.
std::vector<int> image_ids(std::uint64_t seed, int class_index, int count) {
  Rng rng = Rng::keyed(seed, static_cast<std::uint64_t>(class_index), kIdStream);
  std::set<int> seen;
  std::vector<int> ids;
  while (static_cast<int>(ids.size()) < count) {
    const int id = 100000 + static_cast<int>(rng.below(3900000));
    if (seen.insert(id).second) ids.push_back(id);
  }
  return ids;
}

// A folder that holds anything but an earlier fixture is refused, so that a mistyped --out cannot
// overwrite a real data set; an earlier fixture is replaced whole.
void prepare_folder(const fs::path& root) {
  if (!fs::exists(root)) return;
  R50_CHECK(fs::is_directory(root), root.string(), " exists and is not a folder");
  if (fs::is_empty(root)) return;
  R50_CHECK(fs::exists(root / "meta" / kMarker), "refusing to write a fixture into ", root.string(),
            ": it holds files but no earlier fixture (meta/", kMarker, "); name an empty or new folder");
  fs::remove_all(root / "images");
  fs::remove_all(root / "meta");
}

// RGB of a picture, a gray one expanded.
Picture to_rgb(Picture picture) {
  if (picture.channels == 3) return picture;
  std::vector<std::uint8_t> rgb(picture.pixels.size() * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = picture.pixels[i / 3];
  picture.pixels = std::move(rgb);
  picture.channels = 3;
  return picture;
}

#ifdef R50_WITH_JPEGLIB
// libjpeg reports a fatal error through error_exit, which by default ends the process: ours jumps
// back to the setjmp in compress_jpeg instead.
struct EncoderError {
  jpeg_error_mgr fields;  // first, so that a j_common_ptr's err can be cast back to this struct
  std::jmp_buf jump;
};

[[noreturn]] void encoder_jump_back(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<EncoderError*>(cinfo->err)->jump, 1);
}

// `samples` as `space` lays them out (RGB, gray or CMYK), into a malloc'ed *out that the caller
// frees. A plain function whose locals are trivial, so that the longjmp of an error skips no
// destructor.
bool compress_jpeg(const std::uint8_t* samples, int width, int height, int components, J_COLOR_SPACE space,
                   bool progressive, int quality, unsigned char** out, unsigned long* size) {
  jpeg_compress_struct cinfo{};
  EncoderError error{};
  cinfo.err = jpeg_std_error(&error.fields);
  error.fields.error_exit = encoder_jump_back;
  if (setjmp(error.jump)) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, out, size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = components;
  cinfo.in_color_space = space;
  jpeg_set_defaults(&cinfo);  // CMYK: with Adobe's APP14 marker, as Photoshop writes it
  jpeg_set_quality(&cinfo, quality, TRUE);
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(samples + std::size_t{cinfo.next_scanline} * width * components);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

enum class JpegKind { cmyk, grayscale, progressive };

// The JPEG kinds that stb_image_write cannot write, through libjpeg's compressor.
std::vector<std::uint8_t> encode_with_libjpeg(const Picture& rgb, JpegKind kind) {
  std::vector<std::uint8_t> samples;
  int components = 3;
  J_COLOR_SPACE space = JCS_RGB;
  if (kind == JpegKind::grayscale) {
    components = 1, space = JCS_GRAYSCALE;
    for (std::size_t i = 0; i < rgb.pixels.size(); i += 3) {
      samples.push_back(to_byte(0.299f * rgb.pixels[i] + 0.587f * rgb.pixels[i + 1] + 0.114f * rgb.pixels[i + 2]));
    }
  } else if (kind == JpegKind::cmyk) {
    // Adobe's inverted inks, which decoders (PIL, stb_image) turn back into red = C·K/255 and so
    // on: K the brightest channel, C, M, Y each channel's share of it.
    components = 4, space = JCS_CMYK;
    for (std::size_t i = 0; i < rgb.pixels.size(); i += 3) {
      const int k = std::max({rgb.pixels[i], rgb.pixels[i + 1], rgb.pixels[i + 2]});
      for (int c = 0; c < 3; ++c) samples.push_back(k ? static_cast<std::uint8_t>(rgb.pixels[i + c] * 255 / k) : 0);
      samples.push_back(static_cast<std::uint8_t>(k));
    }
  } else {
    samples = rgb.pixels;
  }
  unsigned char* out = nullptr;
  unsigned long size = 0;
  const bool done = compress_jpeg(samples.data(), rgb.width, rgb.height, components, space,
                                  kind == JpegKind::progressive, rgb.quality, &out, &size);
  std::unique_ptr<unsigned char, void (*)(void*)> owned(out, std::free);
  R50_CHECK(done && out, "libjpeg could not encode a fixture image");
  return std::vector<std::uint8_t>(out, out + size);
}
#endif

// A JPEG whose frame header claims 65,500 x 65,500 pixels, over any sane pixel budget.
std::vector<std::uint8_t> with_huge_header(std::vector<std::uint8_t> jpeg) {
  for (std::size_t p = 2; p + 9 <= jpeg.size() && jpeg[p] == 0xFF;
       p += 2 + (std::size_t{jpeg[p + 2]} << 8 | jpeg[p + 3])) {
    if (jpeg[p + 1] != 0xC0) continue;  // SOF0: FF C0, length, precision, height, width
    jpeg[p + 5] = 0xFF, jpeg[p + 6] = 0xDC, jpeg[p + 7] = 0xFF, jpeg[p + 8] = 0xDC;
    return jpeg;
  }
  R50_THROW("no baseline frame header in the JPEG to enlarge");
}

// Writes the hostile set under `root` and appends its lines to the splits: images that are
// unusual but valid (what torchvision's Image.open(f).convert('RGB') trains on), images that
// cannot be used, and index lines that must be passed over. meta/hostile.txt lists each entry
// and what a loader should make of it.
HostileSummary plant_hostile_entries(const fs::path& root, const std::vector<std::string>& classes,
                                     const std::vector<Photo>& photos, std::uint64_t seed,
                                     std::vector<std::string>& train, std::vector<std::string>& test) {
  HostileSummary summary;
  std::vector<std::string> manifest = {
      "# make_food101_fixture --hostile: each planted entry, and what a loader should make of it"};
  const std::string good_class = classes.front(), test_class = classes.back();
  int drawn = 0;
  const auto picture = [&] {
    Rng rng = Rng::keyed(seed, kHostileStream, static_cast<std::uint64_t>(drawn++));
    return to_rgb(draw_picture(photos, rng));
  };
  // An image entry of `split`: its file (`bytes`, or nothing where `bytes` is null) and outcome.
  const auto plant = [&](std::vector<std::string>& split, const std::string& line,
                         const std::vector<std::uint8_t>* bytes, const std::string& outcome) {
    split.push_back(line);
    if (bytes) write_file(root / "images" / (line + ".jpg"), *bytes);
    manifest.push_back("images/" + line + ".jpg\t" + outcome);
    if (outcome.rfind("trained", 0) == 0) {
      ++summary.odd_images;
    } else {
      ++(&split == &train ? summary.bad_images : summary.bad_test_images);
    }
  };
  const auto bad_line = [&](std::vector<std::string>& split, const char* file, const std::string& line,
                            const std::string& why) {
    split.push_back(line);
    manifest.push_back(std::string(file) + ":" + std::to_string(split.size()) + " '" + line + "'\tskipped: " + why);
    ++summary.bad_lines;
  };

  const Picture photo = picture();
  const std::vector<std::uint8_t> jpeg = encode_baseline(photo);
  std::vector<std::uint8_t> png;
  R50_CHECK(stbi_write_png_to_func(append_bytes, &png, photo.width, photo.height, 3, photo.pixels.data(), 0),
            "PNG encoding failed");
#ifdef R50_WITH_JPEGLIB
  const std::tuple<JpegKind, const char*, const char*> kinds[] = {
      {JpegKind::cmyk, "cmyk", "CMYK JPEG (Adobe's inverted inks), decoded to RGB"},
      {JpegKind::grayscale, "grayscale", "one-component JPEG, expanded to RGB"},
      {JpegKind::progressive, "progressive", "progressive JPEG"}};
  for (const auto& [kind, name, what] : kinds) {
    const std::vector<std::uint8_t> odd = encode_with_libjpeg(picture(), kind);
    plant(train, good_class + "/odd_" + name, &odd, std::string("trained: ") + what);
  }
#else
  summary.note = "CMYK, one-component grayscale and progressive JPEGs need libjpeg's compressor, which this "
                 "build lacks (Debian's libturbojpeg0-dev and libjpeg62-turbo-dev): baseline JPEGs stand in for them";
  for (const char* name : {"cmyk", "grayscale", "progressive"}) {
    const std::vector<std::uint8_t> stand_in = encode_baseline(picture());
    plant(train, good_class + "/baseline_instead_of_" + name, &stand_in, "trained: baseline JPEG");
  }
#endif
  plant(train, good_class + "/odd_png", &png, "trained: PNG under a .jpg name, as PIL reads it");

  const std::vector<std::uint8_t> truncated(jpeg.begin(), jpeg.begin() + jpeg.size() / 2), empty;
  const std::string text = "not a picture\n";
  const std::vector<std::uint8_t> text_bytes(text.begin(), text.end()), huge = with_huge_header(jpeg);
  plant(train, good_class + "/bad_truncated", &truncated, "skipped: truncated (no end-of-image marker)");
  plant(train, good_class + "/bad_empty", &empty, "skipped: empty file");
  bad_line(train, "meta/train.txt", "", "blank");
  plant(train, good_class + "/bad_text", &text_bytes, "skipped: not an image (neither JPEG nor PNG)");
  plant(train, good_class + "/bad_huge_header", &huge, "skipped: 65500x65500 pixels is over the 50 MP budget");
  bad_line(train, "meta/train.txt", "../meta/classes", "escapes the data directory");
  plant(train, good_class + "/bad_missing", nullptr, "skipped: cannot read: No such file or directory");
  fs::create_directories(root / "images" / good_class / "bad_directory.jpg");
  plant(train, good_class + "/bad_directory", nullptr, "skipped: cannot read: not a regular file");
  bad_line(train, "meta/train.txt", "/etc/passwd", "escapes the data directory");
  // A name that would clear a terminal printed raw: reports must escape it.
  plant(train, good_class + "/bad_name_\x1b[2J", nullptr, "skipped: cannot read: No such file or directory");
  bad_line(train, "meta/train.txt", "unknown_food/1000001", "unknown class 'unknown_food'");
  fs::create_symlink("../../meta/classes.txt", root / "images" / good_class / "bad_link_outside.jpg");
  bad_line(train, "meta/train.txt", good_class + "/bad_link_outside", "escapes the data directory");

  // At the end of the test split, so that evaluation in index order meets a batch of bad images.
  plant(test, test_class + "/bad_test_truncated", &truncated, "skipped: truncated (no end-of-image marker)");
  plant(test, test_class + "/bad_test_empty", &empty, "skipped: empty file");
  bad_line(test, "meta/test.txt", "unknown_food/1000002", "unknown class 'unknown_food'");
  plant(test, test_class + "/bad_test_text", &text_bytes, "skipped: not an image (neither JPEG nor PNG)");
  plant(test, test_class + "/bad_test_missing", nullptr, "skipped: cannot read: No such file or directory");

  for (std::string& entry : manifest) {
    for (std::size_t at = entry.find('\x1b'); at != std::string::npos; at = entry.find('\x1b', at)) {
      entry.replace(at, 1, "\\x1b");
    }
  }
  write_lines(root / "meta" / "hostile.txt", manifest);
  return summary;
}

}  // namespace

std::string default_fixture_photo() {
  R50_CHECK(fs::exists(kDefaultPhoto), "no source photograph for the fixture: ", kDefaultPhoto,
            " is missing; install Debian's python-matplotlib-data (scripts/install_deps.sh --tests "
            "does), or name photographs with --source");
  return kDefaultPhoto;
}

FixtureSummary make_food101_fixture(const std::string& root, const FixtureOptions& options) {
  R50_CHECK(options.classes >= 1 && options.train_images >= 1 && options.test_images >= 0,
            "a fixture needs at least 1 class and 1 training image per class (asked: ", options.classes,
            " classes, ", options.train_images, " training and ", options.test_images, " test images)");
  FixtureSummary summary;
  summary.sources =
      options.sources.empty() ? std::vector<std::string>{default_fixture_photo()} : options.sources;
  std::vector<Photo> photos;
  for (const std::string& path : summary.sources) photos.push_back(load_photo(path));
  prepare_folder(root);

  const int per_class = options.train_images + options.test_images;
  std::vector<std::string> classes, train, test, names;  // names: "class/id" of every image
  for (int c = 0; c < options.classes; ++c) {
    classes.push_back(class_name(c));
    fs::create_directories(fs::path(root) / "images" / classes.back());
    const std::vector<int> ids = image_ids(options.seed, c, per_class);
    for (int i = 0; i < per_class; ++i) {
      names.push_back(classes.back() + "/" + std::to_string(ids[i]));
      (i < options.train_images ? train : test).push_back(names.back());
    }
  }
  fs::create_directories(fs::path(root) / "meta");

  std::atomic<std::size_t> next{0};
  std::atomic<std::int64_t> bytes{0}, pixels{0};
  std::atomic<int> grayscale{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  const auto work = [&] {
    for (std::size_t job = next++; job < names.size(); job = next++) {
      try {
        Rng rng = Rng::keyed(options.seed, job / per_class, job % per_class);
        const Rendered image = render(photos, rng);
        write_file(fs::path(root) / "images" / (names[job] + ".jpg"), image.jpeg);
        bytes += static_cast<std::int64_t>(image.jpeg.size());
        pixels += image.pixels;
        grayscale += image.grayscale ? 1 : 0;
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next = names.size();
      }
    }
  };
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int thread_count = std::min<int>(options.threads > 0 ? options.threads : static_cast<int>(cores),
                                         static_cast<int>(names.size()));
  std::vector<std::thread> threads;
  for (int t = 1; t < thread_count; ++t) threads.emplace_back(work);
  work();
  for (std::thread& thread : threads) thread.join();
  if (error) std::rethrow_exception(error);

  if (options.hostile) summary.hostile = plant_hostile_entries(root, classes, photos, options.seed, train, test);
  write_lines(fs::path(root) / "meta" / "classes.txt", classes);
  write_lines(fs::path(root) / "meta" / "train.txt", train);
  write_lines(fs::path(root) / "meta" / "test.txt", test);
  std::string made = "make_food101_fixture: " + std::to_string(options.classes) + " classes, " +
                     std::to_string(options.train_images) + " training and " +
                     std::to_string(options.test_images) + " test images each, seed " +
                     std::to_string(options.seed) + ", from";
  for (const std::string& source : summary.sources) made += " " + source;
  write_lines(fs::path(root) / "meta" / kMarker, {made});
  summary.images = static_cast<int>(names.size());
  summary.bytes = bytes;
  summary.pixels = pixels;
  summary.grayscale = grayscale;
  return summary;
}

}  // namespace r50
