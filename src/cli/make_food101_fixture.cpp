// make_food101_fixture: a small Food-101-layout tree made from real photographs, for tests and
// for bench_loader, where the real data set is not at hand.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/food101_fixture.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Writes a Food-101-layout tree (meta/classes.txt, meta/train.txt, meta/test.txt,\n"
      "images/<class>/<id>.jpg) made from real photographs: random crops, mild warps, colour\n"
      "shifts, 512 pixels on the longer side, JPEG quality 70 to 95, about 5% grayscale.\n"
      "The same seed and sources give the same files."};
  std::string out;
  r50::FixtureOptions options;
  app.add_option("--out", out, "folder to write the tree into (created if need be)")->required();
  app.add_option("--classes", options.classes, "classes")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--images", options.train_images, "training images per class")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--test-images", options.test_images, "test images per class")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed of every random draw")->capture_default_str();
  app.add_option("--source", options.sources,
                 "photographs to draw from (JPEG, PNG; default: matplotlib's grace_hopper.jpg from "
                 "Debian's python-matplotlib-data)")
      ->check(CLI::ExistingFile);
  app.add_option("--threads", options.threads, "encoding threads (0: every core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--hostile", options.hostile,
               "add bad data: odd but valid images (CMYK, grayscale, progressive, PNG), unusable images "
               "and bad index lines, each listed in meta/hostile.txt with what a loader should make of it");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto start = std::chrono::steady_clock::now();
    const r50::FixtureSummary summary = r50::make_food101_fixture(out, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "wrote %d images (%d classes x %d training + %d test, %d grayscale) into %s in %.1f s: "
        "%.1f MB, %.2f bits per pixel, from %zu photograph%s:",
        summary.images, options.classes, options.train_images, options.test_images, summary.grayscale,
        out.c_str(), seconds, summary.bytes / 1e6, 8.0 * summary.bytes / summary.pixels,
        summary.sources.size(), summary.sources.size() == 1 ? "" : "s");
    for (const std::string& source : summary.sources) std::printf(" %s", source.c_str());
    std::printf("\n");
    const r50::HostileSummary& hostile = summary.hostile;
    if (options.hostile) {
      std::printf("hostile: %d odd but valid training images, %d bad training and %d bad test images, "
                  "%d bad index lines: see %s/meta/hostile.txt\n",
                  hostile.odd_images, hostile.bad_images, hostile.bad_test_images, hostile.bad_lines, out.c_str());
    }
    if (!hostile.note.empty()) std::printf("note: %s\n", hostile.note.c_str());
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
