// bench_loader: how fast this machine's CPU turns Food-101 JPEGs into training batches: JPEG
// decoding alone (libjpeg-turbo or stb_image, whichever the build has), augmentation alone, and the
// Loader (read, decode, RandomResizedCrop, flip) with one worker and with every core. Flags starting
// with --benchmark_ go to Google Benchmark.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <benchmark/benchmark.h>

#include "cli/food101_fixture.h"
#include "command_line.h"
#include "core/host.h"
#include "data/augment.h"
#include "data/decode.h"
#include "data/food101_index.h"
#include "data/loader.h"
#include "memory/host_allocator.h"

namespace {

namespace fs = std::filesystem;

struct Options {
  std::string data_dir;  // empty: a fixture made in a temporary folder
  int workers = 0;       // 0: every core
  int image_size = 224;
  int batch_size = 64;
  int batches = 0;           // per measured pass; 0: a full epoch
  int decode_images = 1000;  // images decoded per pass of the decode-only benchmarks
  int fixture_classes = 10, fixture_images = 30;
  std::uint64_t seed = 0;
};

struct Rates {
  double images_per_second = 0, megapixels_per_second = 0;
};
std::map<std::string, Rates> results;  // by benchmark name, for the summary

// A JPEG's pixel count from its frame header (SOFn), without decoding it; 0 when the file is not
// a JPEG that can be read this way. The loader does not say which images it decoded, so its source
// megapixels per second is its image rate times the mean of these.
std::int64_t jpeg_pixels(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char bytes[9];
  if (!in.read(reinterpret_cast<char*>(bytes), 2) || bytes[0] != 0xFF || bytes[1] != 0xD8) return 0;
  while (in.read(reinterpret_cast<char*>(bytes), 4)) {
    if (bytes[0] != 0xFF) return 0;
    const int marker = bytes[1], length = bytes[2] << 8 | bytes[3];
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) {
      if (!in.read(reinterpret_cast<char*>(bytes), 5)) return 0;
      return static_cast<std::int64_t>(bytes[1] << 8 | bytes[2]) * (bytes[3] << 8 | bytes[4]);
    }
    if (length < 2) return 0;
    in.seekg(length - 2, std::ios::cur);
  }
  return 0;
}

void set_rates(benchmark::State& state, const std::string& name, double images, double pixels,
               double seconds) {
  state.counters["images_per_second"] = benchmark::Counter(images, benchmark::Counter::kIsRate);
  state.counters["megapixels_per_second"] = benchmark::Counter(pixels / 1e6, benchmark::Counter::kIsRate);
  results[name] = {images / seconds, pixels / 1e6 / seconds};
}

// The decoder alone, one thread: read and decode each file, nothing else.
void decode_only(benchmark::State& state, const std::string& name, const std::vector<std::string>* paths) {
  double images = 0, pixels = 0, skipped = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    for (const std::string& path : *paths) {
      const r50::DecodeResult decoded = r50::decode_image_file(path);
      benchmark::DoNotOptimize(decoded.image.pixels.data());
      if (!decoded.ok()) {
        ++skipped;
        continue;
      }
      ++images;
      pixels += static_cast<double>(decoded.image.width) * decoded.image.height;
    }
  }
  set_rates(state, name, images, pixels, r50::seconds_since(start));
  state.counters["skipped_images"] = skipped;
}

// augment_train alone, one thread, on images decoded beforehand: a new crop and flip each pass.
void augment_only(benchmark::State& state, const std::string& name, const std::vector<r50::Image>* sources,
                  const Options* options) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(options->image_size) * options->image_size * 3);
  double images = 0, pixels = 0;
  std::uint64_t epoch = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    for (std::size_t i = 0; i < sources->size(); ++i) {
      r50::augment_train((*sources)[i], options->image_size, options->seed, epoch, i, out.data());
      benchmark::DoNotOptimize(out.data());
      pixels += static_cast<double>((*sources)[i].width) * (*sources)[i].height;
    }
    images += static_cast<double>(sources->size());
    ++epoch;
  }
  set_rates(state, name, images, pixels, r50::seconds_since(start));
}

// The Loader in training mode: each pass starts an epoch and takes its batches (all of them, or
// --batches), so the figure is what a training loop that never waits on the GPU would see.
void load_batches(benchmark::State& state, const std::string& name, const r50::Food101Index* index,
                  const Options* options, int workers, double mean_source_pixels) {
  r50::HostAllocator memory;
  r50::LoaderOptions loader_options;
  loader_options.batch_size = options->batch_size;
  loader_options.image_size = options->image_size;
  loader_options.workers = workers;
  loader_options.seed = options->seed;
  r50::Loader loader(*index, loader_options, memory);
  const std::int64_t batches = options->batches > 0
                                   ? std::min<std::int64_t>(options->batches, loader.batches_per_epoch())
                                   : loader.batches_per_epoch();
  double images = 0;
  std::int64_t epoch = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    loader.start_epoch(epoch++);
    for (std::int64_t b = 0; b < batches; ++b) {
      const std::optional<r50::LoadedBatch> batch = loader.next();
      if (!batch) break;
      images += static_cast<double>(batch->images().dim(0));
    }
  }
  const double seconds = r50::seconds_since(start);
  loader.stop();
  const r50::LoaderStats stats = loader.stats();
  set_rates(state, name, images, images * mean_source_pixels, seconds);
  // Every image a worker made counts, those decoded ahead and discarded by the next start_epoch
  // too: the rate of one busy worker, whatever the pipeline around it did.
  if (stats.decode_seconds > 0) {
    state.counters["images_per_worker_second"] =
        static_cast<double>(stats.images_decoded) / stats.decode_seconds;
  }
  state.counters["skipped_images"] = static_cast<double>(stats.images_skipped);
  for (const std::string& example : stats.skipped_examples) std::cerr << "skipped: " << example << "\n";
}

// The temporary fixture's folder, removed when the run ends.
struct TemporaryFolder {
  fs::path path;
  TemporaryFolder() {
    std::string pattern = (fs::temp_directory_path() / "bench_loader_XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot make a temporary folder in " + pattern);
    path = pattern;
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

void print_summary(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::printf("\nJPEG decoder: %s\n", r50::jpeg_decoder_name());
  std::printf("%-44s %12s %12s\n", "", "images/s", "source MP/s");
  for (const auto& [name, label] : rows) {
    const auto found = results.find(name);
    if (found == results.end()) continue;
    std::printf("%-44s %12.1f %12.1f\n", label.c_str(), found->second.images_per_second,
                found->second.megapixels_per_second);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Google Benchmark's own flags pass through; everything else is ours.
  r50::CommandLine line = r50::split_benchmark_flags(argc, argv);

  Options options;
  CLI::App app{
      "Measures the input pipeline on the CPU: JPEG decoding alone, augmentation alone and\n"
      "the Loader (training mode) with one worker and with --workers, in images/s and source\n"
      "megapixels/s. Without --data-dir it makes a fixture from real photographs first.\n"
      "--benchmark_* flags go to Google Benchmark (e.g. --benchmark_out=FILE.json)."};
  app.add_option("--data-dir", options.data_dir,
                 "a Food-101-layout tree (meta/, images/); its training split is read")
      ->check(CLI::ExistingDirectory);
  app.add_option("--workers", options.workers, "loader threads of the second measurement (0: every core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--image-size", options.image_size, "training crop")
      ->check(CLI::Range(16, 1024))
      ->capture_default_str();
  app.add_option("--batch-size", options.batch_size, "images per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--batches", options.batches, "batches per measured pass (0: a full epoch)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--decode-images", options.decode_images,
                 "images, evenly spread over the split, in each pass of the decode-only benchmark")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--fixture-classes", options.fixture_classes,
                 "classes of the fixture made without --data-dir")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--fixture-images", options.fixture_images, "images per class of that fixture")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", options.seed, "augmentation and fixture seed")->capture_default_str();
  try {
    app.parse(static_cast<int>(line.ours.size()), line.ours.data());
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }

  try {
    std::unique_ptr<TemporaryFolder> fixture;
    if (options.data_dir.empty()) {
      fixture = std::make_unique<TemporaryFolder>();
      options.data_dir = fixture->path.string();
      r50::FixtureOptions fixture_options;
      fixture_options.classes = options.fixture_classes;
      fixture_options.train_images = options.fixture_images;
      fixture_options.seed = options.seed;
      const r50::FixtureSummary made = r50::make_food101_fixture(options.data_dir, fixture_options);
      std::cerr << "no --data-dir: made a fixture of " << made.images << " images from " << made.sources[0]
                << " in " << options.data_dir << "\n";
    }
    const r50::Food101Index index = r50::read_food101_index(options.data_dir, r50::Split::Train);
    if (index.entries.empty()) throw std::runtime_error(options.data_dir + "/meta/train.txt lists no image");

    double total_pixels = 0, measured = 0;
    for (const r50::Food101Entry& entry : index.entries) {
      const std::int64_t pixels = jpeg_pixels(index.image_path(entry));
      total_pixels += static_cast<double>(pixels);
      measured += pixels > 0 ? 1 : 0;
    }
    const double mean_source_pixels = measured > 0 ? total_pixels / measured : 0;

    const std::size_t sample = std::min<std::size_t>(options.decode_images, index.entries.size());
    std::vector<std::string> decode_paths;
    for (std::size_t i = 0; i < sample; ++i) {
      decode_paths.push_back(index.image_path(index.entries[i * index.entries.size() / sample]));
    }
    std::vector<r50::Image> augment_sources;
    for (std::size_t i = 0; i < decode_paths.size() && augment_sources.size() < 64; ++i) {
      r50::DecodeResult decoded = r50::decode_image_file(decode_paths[i]);
      if (decoded.ok()) augment_sources.push_back(std::move(decoded.image));
    }

    const int all = options.workers > 0 ? options.workers
                                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::fprintf(stderr,
                 "data: %s, %zu training images in %zu classes, %.3f MP each on average; crop %d, batch %d\n",
                 options.data_dir.c_str(), index.entries.size(), index.classes.size(),
                 mean_source_pixels / 1e6, options.image_size, options.batch_size);

    const std::string size = std::to_string(options.image_size), batch = std::to_string(options.batch_size);
    std::vector<std::pair<std::string, std::string>> rows;  // name, label in the summary
    const auto add = [&](const std::string& name, const std::string& label, auto function, auto... args) {
      rows.emplace_back(name, label);
      benchmark::RegisterBenchmark(name.c_str(), function, name, args...)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    };
    const std::string decoder = r50::jpeg_decoder_name();
    add("decode/" + decoder + "/threads:1", "decode alone (" + decoder + "), 1 thread", decode_only,
        &decode_paths);
    if (!augment_sources.empty()) {
      add("augment_train/img:" + size + "/threads:1", "augment alone (crop " + size + ", flip), 1 thread",
          augment_only, &augment_sources, &options);
    }
    std::vector<int> worker_counts{1};
    if (all != 1) worker_counts.push_back(all);
    for (const int workers : worker_counts) {
      add("loader/train/workers:" + std::to_string(workers) + "/bs:" + batch + "/img:" + size,
          "loader, " + std::to_string(workers) + " worker" + (workers == 1 ? "" : "s"), load_batches, &index,
          &options, workers, mean_source_pixels);
    }

    int benchmark_argc = static_cast<int>(line.benchmark.size());
    benchmark::Initialize(&benchmark_argc, line.benchmark.data());
    if (benchmark::ReportUnrecognizedArguments(benchmark_argc, line.benchmark.data())) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    print_summary(rows);
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
