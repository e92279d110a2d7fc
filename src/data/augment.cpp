#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/error.h"

namespace r50 {
namespace {

// PIL's fixed point for 8-bit images (Resample.c): weights carry 22 fractional bits, leaving room
// for 8 bits of pixel and 2 of overshoot in an int.
constexpr int kPrecisionBits = 32 - 8 - 2;

// Python's round(): halves go to the even neighbour, which std::nearbyint does in the default
// rounding mode. torchvision rounds crop sizes and centre offsets this way.
int round_half_even(double value) { return static_cast<int>(std::nearbyint(value)); }

double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// The filter taps of one axis, for output coordinates [first, first + count) of an in_size →
// out_size resize: PIL's precompute_coeffs with the bilinear filter, then normalize_coeffs_8bpc.
// When shrinking, the triangle is widened by the scale factor, so every source pixel contributes
// (the antialiasing that makes PIL's resize differ from plain bilinear interpolation).
struct Taps {
  int ksize = 0;                      // weights stored per output coordinate
  std::vector<int> start, length;     // source pixels [start, start + length) of each output
  std::vector<std::int32_t> weights;  // fixed point, kPrecisionBits fractional bits
};

Taps bilinear_taps(int in_size, int out_size, int first, int count) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;  // the triangle's support is 1
  Taps taps;
  taps.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.start.resize(count);
  taps.length.resize(count);
  taps.weights.assign(static_cast<std::size_t>(count) * taps.ksize, 0);
  std::vector<double> w(taps.ksize);
  for (int i = 0; i < count; ++i) {
    const double center = (first + i + 0.5) * scale;
    // PIL truncates toward zero here, then clamps to the image.
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    double total = 0.0;
    for (int x = 0; x < hi - lo; ++x) {
      w[x] = triangle((x + lo - center + 0.5) / filter_scale);
      total += w[x];
    }
    std::int32_t* fixed = &taps.weights[static_cast<std::size_t>(i) * taps.ksize];
    for (int x = 0; x < hi - lo; ++x) {
      const double normalised = total != 0.0 ? w[x] / total : w[x];
      fixed[x] = static_cast<std::int32_t>(0.5 + normalised * (1 << kPrecisionBits));  // w ≥ 0
    }
    taps.start[i] = lo;
    taps.length[i] = hi - lo;
  }
  return taps;
}

std::uint8_t clip8(std::int32_t sum) {
  return static_cast<std::uint8_t>(std::clamp(sum >> kPrecisionBits, 0, 255));
}

// The window [wx, wx + ww) × [wy, wy + wh) of `box` resized to out_width × out_height, as PIL
// computes it after cropping to `box`: a horizontal pass into 8-bit rows, then a vertical pass,
// each rounding to 8 bits, taps clamped to the box's edges. Each output pixel depends only on its
// own coordinates, so a window (the centre crop of evaluation) equals that part of the whole.
void resample_window(const Image& source, const CropBox& box, int out_width, int out_height, int wx,
                     int wy, int ww, int wh, std::uint8_t* out) {
  const Taps columns = bilinear_taps(box.width, out_width, wx, ww);
  const Taps rows = bilinear_taps(box.height, out_height, wy, wh);
  const int row0 = rows.start.front();
  const int row_count = rows.start.back() + rows.length.back() - row0;

  const std::size_t stride = static_cast<std::size_t>(ww) * 3;
  std::vector<std::uint8_t> horizontal(stride * row_count);
  for (int r = 0; r < row_count; ++r) {
    const std::uint8_t* in =
        &source.pixels[(static_cast<std::size_t>(box.y + row0 + r) * source.width + box.x) * 3];
    std::uint8_t* dst = &horizontal[stride * r];
    for (int i = 0; i < ww; ++i) {
      const std::int32_t* k = &columns.weights[static_cast<std::size_t>(i) * columns.ksize];
      const std::uint8_t* px = in + static_cast<std::size_t>(columns.start[i]) * 3;
      std::int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int x = 0; x < columns.length[i]; ++x) {
        s0 += px[3 * x + 0] * k[x];
        s1 += px[3 * x + 1] * k[x];
        s2 += px[3 * x + 2] * k[x];
      }
      dst[3 * i + 0] = clip8(s0);
      dst[3 * i + 1] = clip8(s1);
      dst[3 * i + 2] = clip8(s2);
    }
  }

  std::vector<std::int32_t> sums(stride);
  for (int j = 0; j < wh; ++j) {
    std::fill(sums.begin(), sums.end(), 1 << (kPrecisionBits - 1));
    const std::int32_t* k = &rows.weights[static_cast<std::size_t>(j) * rows.ksize];
    for (int y = 0; y < rows.length[j]; ++y) {
      const std::uint8_t* in = &horizontal[stride * (rows.start[j] - row0 + y)];
      for (std::size_t c = 0; c < stride; ++c) sums[c] += in[c] * k[y];
    }
    std::uint8_t* dst = out + stride * j;
    for (std::size_t c = 0; c < stride; ++c) dst[c] = clip8(sums[c]);
  }
}

void check_image(const Image& image) {
  R50_CHECK(image.width > 0 && image.height > 0 &&
                image.pixels.size() == static_cast<std::size_t>(image.width) * image.height * 3,
            "augment: an RGB image ", image.width, "x", image.height, " needs ",
            std::size_t{3} * std::max(image.width, 0) * std::max(image.height, 0), " bytes, has ",
            image.pixels.size());
}

}  // namespace

// torchvision's RandomResizedCrop.get_params, line for line; only the generator differs.
CropBox random_resized_crop_box(int width, int height, Rng& rng) {
  R50_CHECK(width > 0 && height > 0, "random_resized_crop_box: empty image ", width, "x", height);
  constexpr double kMinScale = 0.08, kMaxScale = 1.0, kMinRatio = 3.0 / 4.0, kMaxRatio = 4.0 / 3.0;
  const double area = static_cast<double>(width) * height;
  const double log_min_ratio = std::log(kMinRatio), log_max_ratio = std::log(kMaxRatio);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * rng.uniform(kMinScale, kMaxScale);
    const double aspect = std::exp(rng.uniform(log_min_ratio, log_max_ratio));
    const int w = round_half_even(std::sqrt(target_area * aspect));
    const int h = round_half_even(std::sqrt(target_area / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const int y = static_cast<int>(rng.below(static_cast<std::uint64_t>(height - h) + 1));
      const int x = static_cast<int>(rng.below(static_cast<std::uint64_t>(width - w) + 1));
      return {x, y, w, h};
    }
  }
  // Fallback: the whole image, cut to the nearest allowed ratio, centred.
  const double in_ratio = static_cast<double>(width) / height;
  int w = width, h = height;
  if (in_ratio < kMinRatio) {
    h = round_half_even(w / kMinRatio);
  } else if (in_ratio > kMaxRatio) {
    w = round_half_even(h * kMaxRatio);
  }
  return {(width - w) / 2, (height - h) / 2, w, h};
}

void resize_crop(const Image& source, const CropBox& box, int out_width, int out_height, std::uint8_t* out) {
  check_image(source);
  R50_CHECK(box.width > 0 && box.height > 0 && box.x >= 0 && box.y >= 0 &&
                box.x + box.width <= source.width && box.y + box.height <= source.height,
            "resize_crop: box ", box.width, "x", box.height, " at (", box.x, ", ", box.y,
            ") is not inside the ", source.width, "x", source.height, " image");
  R50_CHECK(out_width > 0 && out_height > 0, "resize_crop: empty output ", out_width, "x", out_height);
  resample_window(source, box, out_width, out_height, 0, 0, out_width, out_height, out);
}

void flip_horizontal(std::uint8_t* pixels, int width, int height) {
  for (int y = 0; y < height; ++y) {
    std::uint8_t* row = pixels + static_cast<std::size_t>(y) * width * 3;
    for (int l = 0, r = width - 1; l < r; ++l, --r) {
      std::swap_ranges(row + 3 * l, row + 3 * l + 3, row + 3 * r);
    }
  }
}

TrainDraws train_draws(int width, int height, std::uint64_t seed, std::uint64_t epoch, std::uint64_t index) {
  Rng rng = Rng::keyed(seed, epoch, index);
  TrainDraws draws;
  draws.box = random_resized_crop_box(width, height, rng);
  draws.flip = rng.uniform() < 0.5;
  return draws;
}

void augment_train(const Image& source, int size, std::uint64_t seed, std::uint64_t epoch,
                   std::uint64_t index, std::uint8_t* out) {
  check_image(source);
  const TrainDraws draws = train_draws(source.width, source.height, seed, epoch, index);
  augment_train_region(source, CropBox{0, 0, source.width, source.height}, draws, size, out);
}

void augment_train_region(const Image& pixels, const CropBox& region, const TrainDraws& draws, int size,
                          std::uint8_t* out) {
  check_image(pixels);
  R50_CHECK(pixels.width == region.width && pixels.height == region.height, "augment_train_region: ",
            pixels.width, "x", pixels.height, " pixels for a ", region.width, "x", region.height, " region");
  const CropBox box{draws.box.x - region.x, draws.box.y - region.y, draws.box.width, draws.box.height};
  resize_crop(pixels, box, size, size, out);
  if (draws.flip) flip_horizontal(out, size, size);
}

// torchvision's Resize(int) then CenterCrop: the shorter side becomes `resized`, the longer
// int(resized · long / short) (exact in integers: the quotient is never within rounding of an
// integer it does not equal), and the crop's offset is round((side − size) / 2).
void augment_eval(const Image& source, int size, std::uint8_t* out) {
  check_image(source);
  R50_CHECK(size > 0, "augment_eval: image size ", size);
  const std::int64_t resized = std::int64_t{size} * 256 / 224;
  const bool portrait = source.width <= source.height;
  const std::int64_t short_side = portrait ? source.width : source.height;
  const std::int64_t long_side = portrait ? source.height : source.width;
  const int resized_long = static_cast<int>(resized * long_side / short_side);
  const int out_width = portrait ? static_cast<int>(resized) : resized_long;
  const int out_height = portrait ? resized_long : static_cast<int>(resized);
  const int left = round_half_even((out_width - size) / 2.0);
  const int top = round_half_even((out_height - size) / 2.0);
  const CropBox whole{0, 0, source.width, source.height};
  resample_window(source, whole, out_width, out_height, left, top, size, size, out);
}

}  // namespace r50
