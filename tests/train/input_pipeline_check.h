// defines: expect_epochs_arrive_normalised
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <vector>

#include "data/loader.h"
#include "train/food101_tree.h"
#include "train/input_pipeline.h"

namespace r50 {

// Two epochs over a tree of solid-colour images through the loader and the input pipeline on
// `backend`: every image arrives exactly once per epoch, normalised as (value / 255 - mean) / std
// on every pixel, under its own label. `host_memory` is where the loader keeps its batches.
inline void expect_epochs_arrive_normalised(Backend& backend, Allocator& host_memory,
                                            const std::filesystem::path& dir) {
  constexpr int kClasses = 3, kPerClass = 7, kSize = 32;
  const SolidTree tree = write_solid_food101_tree(dir, kClasses, kPerClass);
  const Food101Index index = read_food101_index(tree.root.string(), Split::Train);
  LoaderOptions options;
  options.batch_size = 4;
  options.image_size = kSize;
  options.workers = 2;
  options.seed = 5;
  Loader loader(index, options, host_memory);
  InputPipeline input(backend, loader);
  for (int epoch = 0; epoch < 2; ++epoch) {
    input.start_epoch(epoch);
    std::set<int> seen;
    while (std::optional<InputBatch> batch = input.next()) {
      const std::int64_t n = batch->labels.numel();
      std::vector<float> images(static_cast<std::size_t>(batch->images.numel()));
      std::vector<std::int32_t> labels(static_cast<std::size_t>(n));
      backend.copy_to_host(images.data(), batch->images);
      backend.copy_to_host(labels.data(), batch->labels);
      for (std::int64_t j = 0; j < n; ++j) {
        // The colour each channel decodes back to, from the image's first pixel.
        std::array<double, 3> colour{};
        for (int c = 0; c < 3; ++c) {
          const float* plane = images.data() + ((j * 3 + c) * kSize * kSize);
          colour[c] = (plane[0] * kImageNetStd[c] + kImageNetMean[c]) * 255.0;
          for (int p = 1; p < kSize * kSize; ++p) ASSERT_EQ(plane[p], plane[0]) << "not one colour";
        }
        int found = -1;
        for (int i = 0; i < tree.images; ++i) {
          const std::array<int, 3> expected = solid_colour(i);
          bool close = true;
          // JPEG at quality 95 moves a flat colour by a level or two.
          for (int c = 0; c < 3; ++c) close = close && std::abs(colour[c] - expected[c]) <= 4.0;
          if (close) found = i;
        }
        ASSERT_GE(found, 0) << "epoch " << epoch << ": a colour no image has";
        EXPECT_EQ(labels[static_cast<std::size_t>(j)], found / kPerClass) << "image " << found;
        EXPECT_TRUE(seen.insert(found).second) << "image " << found << " twice in epoch " << epoch;
      }
    }
    EXPECT_EQ(static_cast<int>(seen.size()), tree.images) << "epoch " << epoch;
  }
}

}  // namespace r50
