// defines: SolidTree, write_solid_food101_tree, solid_colour
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

// Private copies in each translation unit that includes this header: no clash with the data
// library's own stb, nor between test files.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace r50 {

// Image i's colour: distinct for i < 64, far enough apart that JPEG's few levels of error cannot
// make one colour look like another.
inline std::array<int, 3> solid_colour(int i) { return {16 + 3 * i, 240 - 3 * i, 40 + (i * 37) % 160}; }

// A Food-101 tree of `classes` × `per_class` training images, each 48×40 pixels of one solid
// colour (solid_colour of its position in meta/train.txt), so that any crop of it is that colour;
// and `classes` × `test_per_class` test images in meta/test.txt, coloured on from there.
struct SolidTree {
  std::filesystem::path root;
  int images;
  int test_images = 0;
};

inline SolidTree write_solid_food101_tree(const std::filesystem::path& root, int classes, int per_class,
                                          int test_per_class = 0) {
  namespace fs = std::filesystem;
  fs::remove_all(root);
  fs::create_directories(root / "meta");
  std::ofstream class_list(root / "meta" / "classes.txt"), train(root / "meta" / "train.txt");
  std::ofstream test(root / "meta" / "test.txt");
  const auto write_image = [&root](const std::string& name, int i) {
    const std::array<int, 3> colour = solid_colour(i);
    std::vector<std::uint8_t> pixels(48 * 40 * 3);
    for (std::size_t p = 0; p < pixels.size(); ++p) pixels[p] = static_cast<std::uint8_t>(colour[p % 3]);
    const std::string id = std::to_string(1000 + i);
    stbi_write_jpg((root / "images" / name / (id + ".jpg")).string().c_str(), 48, 40, 3, pixels.data(), 95);
    return name + "/" + id;
  };
  int i = 0;
  for (int c = 0; c < classes; ++c) {
    const std::string name = "class_" + std::to_string(c);
    class_list << name << "\n";
    fs::create_directories(root / "images" / name);
    for (int k = 0; k < per_class; ++k, ++i) train << write_image(name, i) << "\n";
  }
  const int train_images = i;
  for (int c = 0; c < classes; ++c) {
    for (int k = 0; k < test_per_class; ++k, ++i) test << write_image("class_" + std::to_string(c), i) << "\n";
  }
  return {root, train_images, i - train_images};
}

}  // namespace r50
