// The prefetching loader: every image once per epoch in a seeded order that no worker count
// changes, bad images skipped and named, and a stop that never hangs or leaks.
#include "data/loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <numeric>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "data/augment.h"
#include "data/loader_fixtures.h"
#include "memory/host_allocator.h"

namespace r50 {
namespace {

using std::chrono::seconds;

constexpr int kImageSize = 16;

// What one epoch delivered, batch by batch.
struct Epoch {
  std::vector<int> labels;
  std::vector<std::int64_t> batch_sizes;
  std::vector<std::int64_t> batch_indices;
  std::vector<std::uint8_t> pixels;
};

void append(Epoch& epoch, const LoadedBatch& batch) {
  const std::int64_t n = batch.images().dim(0);
  check_tensor(batch.images(), "loader", "images", DType::U8, {n, kImageSize, kImageSize, 3});
  check_tensor(batch.labels(), "loader", "labels", DType::I32, {n});
  const std::int32_t* labels = batch.labels().data_as<std::int32_t>();
  const std::uint8_t* pixels = batch.images().data_as<std::uint8_t>();
  epoch.labels.insert(epoch.labels.end(), labels, labels + n);
  epoch.pixels.insert(epoch.pixels.end(), pixels, pixels + batch.images().nbytes());
  epoch.batch_sizes.push_back(n);
  epoch.batch_indices.push_back(batch.index());
}

// How a test consumes an epoch. With `hold_previous`, as a consumer that copies to a GPU does:
// each batch is kept until the next one has arrived.
struct Reading {
  bool hold_previous = false;
  std::chrono::milliseconds pause{0};  // spent on each batch
};

// Reads the rest of the epoch that `loader` is in; a loader that deadlocks aborts the program
// instead of hanging it.
Epoch read_started_epoch(Loader& loader, std::int64_t epoch, Reading reading = {}) {
  return finish_within(seconds(30), "reading an epoch", [&] {
    Epoch result;
    std::optional<LoadedBatch> previous;
    while (std::optional<LoadedBatch> batch = loader.next()) {
      EXPECT_EQ(batch->epoch(), epoch);
      append(result, *batch);
      std::this_thread::sleep_for(reading.pause);
      if (reading.hold_previous) previous = std::move(batch);
    }
    return result;
  });
}

Epoch read_epoch(Loader& loader, std::int64_t epoch, Reading reading = {}) {
  loader.start_epoch(epoch);
  return read_started_epoch(loader, epoch, reading);
}

// Photos of varied sizes, none smaller than the crop.
void add_photos(LoaderTree& tree, int count) {
  for (int k = 0; k < count; ++k) tree.add_photo(24 + 5 * (k % 7), 20 + 3 * (k % 5));
}

LoaderOptions options_with(int batch_size, int workers, std::uint64_t seed = 0) {
  LoaderOptions options;
  options.batch_size = batch_size;
  options.image_size = kImageSize;
  options.workers = workers;
  options.seed = seed;
  return options;
}

std::vector<int> iota_labels(int count) {
  std::vector<int> labels(count);
  std::iota(labels.begin(), labels.end(), 0);
  return labels;
}

// What the loader should deliver for these labels (label k is entry k): each file decoded, then
// augmented as `options` say.
std::vector<std::uint8_t> expected_pixels(const LoaderTree& tree, const std::vector<int>& labels,
                                          const LoaderOptions& options, std::int64_t epoch) {
  const std::size_t image_bytes =
      static_cast<std::size_t>(options.image_size) * options.image_size * 3;
  std::vector<std::uint8_t> pixels(labels.size() * image_bytes);
  for (std::size_t j = 0; j < labels.size(); ++j) {
    const DecodeResult decoded = decode_image_file(tree.image_path(labels[j]));
    EXPECT_TRUE(decoded.ok()) << decoded.error;
    std::uint8_t* out = pixels.data() + j * image_bytes;
    if (options.train) {
      augment_train(decoded.image, options.image_size, options.seed, epoch, labels[j], out);
    } else {
      augment_eval(decoded.image, options.image_size, out);
    }
  }
  return pixels;
}

bool is_permutation_of_all(std::vector<int> labels, int count) {
  std::sort(labels.begin(), labels.end());
  return labels == iota_labels(count);
}

TEST(Loader, DeliversEveryImageOnceAShortBatchLast) {
  LoaderTree tree;
  add_photos(tree, 23);
  HostAllocator memory;
  Loader loader(tree.index(), options_with(5, 2), memory);
  EXPECT_EQ(loader.batches_per_epoch(), 5);
  const Epoch epoch = read_epoch(loader, 0);
  EXPECT_EQ(epoch.batch_sizes, (std::vector<std::int64_t>{5, 5, 5, 5, 3}));
  EXPECT_EQ(epoch.batch_indices, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(is_permutation_of_all(epoch.labels, 23));
  EXPECT_NE(epoch.labels, iota_labels(23)) << "training shuffles";
  EXPECT_FALSE(loader.next().has_value()) << "the epoch is over";
}

TEST(Loader, DropLastDropsTheShortBatchOfTheSameOrder) {
  LoaderTree tree;
  add_photos(tree, 23);
  const Food101Index index = tree.index();
  HostAllocator memory;
  LoaderOptions options = options_with(5, 2);
  Loader all(index, options, memory);
  options.drop_last = true;
  Loader dropping(index, options, memory);
  EXPECT_EQ(dropping.batches_per_epoch(), 4);
  const Epoch full = read_epoch(all, 0), dropped = read_epoch(dropping, 0);
  EXPECT_EQ(dropped.batch_sizes, (std::vector<std::int64_t>{5, 5, 5, 5}));
  EXPECT_EQ(dropped.labels, std::vector<int>(full.labels.begin(), full.labels.begin() + 20));
}

TEST(Loader, BatchesAreByteIdenticalForOneAndFourWorkers) {
  LoaderTree tree;
  add_photos(tree, 23);
  const Food101Index index = tree.index();
  HostAllocator memory;
  LoaderOptions one = options_with(5, 1, 7);
  one.prefetch = 1;  // every batch reuses the one slot
  LoaderOptions four = options_with(5, 4, 7);
  four.prefetch = 3;
  Loader single(index, one, memory), several(index, four, memory);
  for (std::int64_t e : {0, 1}) {
    const Epoch a = read_epoch(single, e), b = read_epoch(several, e);
    EXPECT_EQ(a.labels, b.labels) << "epoch " << e;
    EXPECT_EQ(a.batch_sizes, b.batch_sizes) << "epoch " << e;
    EXPECT_TRUE(a.pixels == b.pixels) << "epoch " << e << ": the pixels differ";
  }
}

TEST(Loader, TheOrderChangesBetweenEpochsAndSeedsAndRepeatsForTheSameOnes) {
  LoaderTree tree;
  add_photos(tree, 23);
  const Food101Index index = tree.index();
  HostAllocator memory;
  Loader seed0(index, options_with(5, 2, 0), memory), seed1(index, options_with(5, 2, 1), memory);
  const Epoch epoch0 = read_epoch(seed0, 0), epoch1 = read_epoch(seed0, 1);
  EXPECT_TRUE(is_permutation_of_all(epoch1.labels, 23));
  EXPECT_NE(epoch0.labels, epoch1.labels);
  EXPECT_NE(epoch0.labels, read_epoch(seed1, 0).labels);
  EXPECT_EQ(read_epoch(seed0, 0).labels, epoch0.labels) << "an epoch read again";
  Loader again(index, options_with(5, 3, 0), memory);
  EXPECT_EQ(read_epoch(again, 1).labels, epoch1.labels) << "another loader, the same seed";
}

TEST(Loader, EvaluationDeliversTheIndexOrderEveryEpoch) {
  LoaderTree tree;
  add_photos(tree, 23);
  HostAllocator memory;
  LoaderOptions options = options_with(5, 3);
  options.train = false;
  Loader loader(tree.index(), options, memory);
  EXPECT_EQ(read_epoch(loader, 0).labels, iota_labels(23));
  EXPECT_EQ(read_epoch(loader, 1).labels, iota_labels(23));
}

// Each delivered image is augment_eval / augment_train of its own decoded file, the training draws
// keyed by the image's index in the index (not its place in the shuffled order).
TEST(Loader, EachImageIsItsFileAugmented) {
  LoaderTree tree;
  add_photos(tree, 11);
  const Food101Index index = tree.index();
  HostAllocator memory;
  for (bool train : {false, true}) {
    LoaderOptions options = options_with(4, 3, 5);
    options.train = train;
    Loader loader(index, options, memory);
    const Epoch epoch = read_epoch(loader, 2);
    ASSERT_EQ(epoch.labels.size(), 11u);
    EXPECT_TRUE(epoch.pixels == expected_pixels(tree, epoch.labels, options, 2))
        << (train ? "train" : "eval");
  }
}

TEST(Loader, SkipsFilesThatCannotBeDecodedCountsAndNamesThemOnce) {
  LoaderTree tree;
  add_photos(tree, 4);
  const std::string whole = LoaderTree::jpeg(40, 30, 99);
  tree.add_file(whole.substr(0, whole.size() * 2 / 3));  // 4: cut short
  tree.add_photo(30, 30);
  tree.add_file("");  // 6
  tree.add_photo(30, 30);
  tree.add_missing();  // 8
  add_photos(tree, 3);
  HostAllocator memory;
  LoaderOptions options = options_with(3, 2);
  options.train = false;
  Loader loader(tree.index(), options, memory);
  for (std::int64_t e : {0, 1}) {
    const Epoch epoch = read_epoch(loader, e);
    EXPECT_EQ(epoch.labels, (std::vector<int>{0, 1, 2, 3, 5, 7, 9, 10, 11}));
    EXPECT_EQ(epoch.batch_sizes, (std::vector<std::int64_t>{3, 2, 1, 3}));
    EXPECT_TRUE(epoch.pixels == expected_pixels(tree, epoch.labels, options, e))
        << "the images that decoded, packed";
  }
  const LoaderStats stats = loader.stats();
  EXPECT_EQ(stats.images_skipped, 6u) << "three bad files, two epochs";
  EXPECT_EQ(stats.bad_images, 3u);
  EXPECT_EQ(stats.images_decoded, 18u);
  ASSERT_EQ(stats.skipped_examples.size(), 3u) << "each bad file named once";
  const auto named = [&](int k, const char* reason) {
    return std::any_of(
        stats.skipped_examples.begin(), stats.skipped_examples.end(), [&](const std::string& s) {
          return s.rfind(tree.image_name(k) + ": ", 0) == 0 && s.find(reason) != std::string::npos;
        });
  };
  EXPECT_TRUE(named(4, "truncated"));
  EXPECT_TRUE(named(6, "empty file"));
  EXPECT_TRUE(named(8, "cannot read"));
}

// A broken copy of the data set can miss thousands of files: the count stays exact, the names
// stop at kNamedBadEntries.
TEST(Loader, NamesTheFirstBadFilesUpToTheCapAndCountsEveryOne) {
  LoaderTree tree;
  const int missing = static_cast<int>(kNamedBadEntries) + 5;
  for (int k = 0; k < missing; ++k) tree.add_missing();
  tree.add_photo(30, 30);
  HostAllocator memory;
  Loader loader(tree.index(), options_with(4, 2), memory);
  EXPECT_EQ(read_epoch(loader, 0).labels, std::vector<int>{missing});
  const LoaderStats stats = loader.stats();
  EXPECT_EQ(stats.images_skipped, static_cast<std::uint64_t>(missing));
  EXPECT_EQ(stats.bad_images, static_cast<std::uint64_t>(missing));
  EXPECT_EQ(stats.skipped_examples.size(), kNamedBadEntries);
  const std::vector<std::pair<std::string, std::uint64_t>> reasons = {
      {"cannot read: No such file or directory", missing}};
  EXPECT_EQ(stats.bad_image_reasons, reasons);
}

// A header's size is part of its reason, so reasons can be as many as files: past a few dozen
// they are pooled, and the counts still add up to every bad file.
TEST(Loader, PoolsReasonsPastTheFirstFewDozen) {
  LoaderTree tree;
  const int huge = 40;
  for (int k = 0; k < huge; ++k) {
    std::string jpeg = LoaderTree::jpeg(16, 16, k);
    const std::size_t sof = jpeg.find("\xFF\xC0");  // length, precision, height, width follow
    ASSERT_NE(sof, std::string::npos);
    const int width = 10000 + k;
    jpeg[sof + 5] = static_cast<char>(10000 >> 8), jpeg[sof + 6] = static_cast<char>(10000 & 255);
    jpeg[sof + 7] = static_cast<char>(width >> 8), jpeg[sof + 8] = static_cast<char>(width & 255);
    tree.add_file(jpeg);
  }
  tree.add_photo(30, 30);
  HostAllocator memory;
  Loader loader(tree.index(), options_with(4, 2), memory);
  read_epoch(loader, 0);
  const LoaderStats stats = loader.stats();
  EXPECT_EQ(stats.bad_images, static_cast<std::uint64_t>(huge));
  std::uint64_t total = 0, pooled = 0;
  for (const auto& [reason, count] : stats.bad_image_reasons) {
    total += count;
    if (reason == LoaderStats::kOtherReasons) pooled = count;
  }
  EXPECT_EQ(total, static_cast<std::uint64_t>(huge));
  EXPECT_GT(pooled, 0u);
  EXPECT_EQ(stats.bad_image_reasons.back().first, LoaderStats::kOtherReasons) << "the pool comes last";
}

// The stats account for the whole split: the lines the index passed over come with the images.
TEST(Loader, CarriesTheLinesItsIndexSkipped) {
  LoaderTree tree;
  add_photos(tree, 2);
  tree.add_index_line("");
  tree.add_index_line("../outside/1");
  HostAllocator memory;
  Loader loader(tree.index(), options_with(2, 1), memory);
  const std::vector<SkippedLine>& lines = loader.stats().index_lines_skipped;
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].file, "meta/train.txt");
  EXPECT_EQ(lines[0].line, 3);
  EXPECT_EQ(lines[0].why, "blank");
  EXPECT_EQ(lines[1].line, 4);
  EXPECT_EQ(lines[1].text, "../outside/1");
  EXPECT_EQ(lines[1].why, "escapes the data directory");
}

// Such a batch has nothing to train on: next() passes over it, and its index is missing.
TEST(Loader, ABatchWhoseImagesAllFailIsNotDelivered) {
  LoaderTree tree;
  add_photos(tree, 2);
  tree.add_missing();
  tree.add_file("");
  add_photos(tree, 2);
  HostAllocator memory;
  LoaderOptions options = options_with(2, 2);
  options.train = false;
  Loader loader(tree.index(), options, memory);
  const Epoch epoch = read_epoch(loader, 0);
  EXPECT_EQ(epoch.batch_indices, (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(epoch.labels, (std::vector<int>{0, 1, 4, 5}));
}

TEST(Loader, CountsDecodedImagesAndTheirTime) {
  LoaderTree tree;
  add_photos(tree, 23);
  HostAllocator memory;
  Loader loader(tree.index(), options_with(5, 2), memory);
  read_epoch(loader, 0);
  read_epoch(loader, 1);
  const LoaderStats stats = loader.stats();
  EXPECT_EQ(stats.images_decoded, 46u);
  EXPECT_EQ(stats.images_skipped, 0u);
  EXPECT_TRUE(stats.skipped_examples.empty());
  EXPECT_GT(stats.decode_seconds, 0.0);
  EXPECT_GE(stats.wait_seconds, 0.0);
}

TEST(Loader, DefaultsToEveryCoreAndTwoBatchesPerWorkerUpToEight) {
  LoaderTree tree;
  add_photos(tree, 3);
  HostAllocator memory;
  Loader loader(tree.index(), options_with(2, 0), memory);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(loader.options().workers, cores);
  EXPECT_EQ(loader.options().prefetch, std::min(2 * cores, 8));
}

TEST(Loader, AllocatesEverySlotUpFrontAndReturnsItAll) {
  LoaderTree tree;
  add_photos(tree, 23);
  HostAllocator memory;
  {
    LoaderOptions options = options_with(5, 2);
    options.prefetch = 3;
    Loader loader(tree.index(), options, memory);
    const AllocatorStats before = memory.stats();
    EXPECT_GE(before.allocated_bytes, 3u * (5 * kImageSize * kImageSize * 3 + 5 * 4));
    read_epoch(loader, 0);
    read_epoch(loader, 1);
    EXPECT_EQ(memory.stats().allocation_count, before.allocation_count)
        << "nothing allocated per batch";
  }
  EXPECT_EQ(memory.stats().allocated_bytes, 0u);
}

TEST(Loader, StartEpochDiscardsWhatWasPrefetchedAndKeepsHeldBatches) {
  LoaderTree tree;
  add_photos(tree, 23);
  const Food101Index index = tree.index();
  HostAllocator memory;
  LoaderOptions options = options_with(5, 2);
  options.prefetch = 3;
  Loader fresh(index, options, memory);
  const Epoch expected = read_epoch(fresh, 1);

  Loader loader(index, options, memory);
  loader.start_epoch(0);
  std::optional<LoadedBatch> held = loader.next();
  ASSERT_TRUE(held.has_value());
  const std::vector<std::uint8_t> held_pixels(
      held->images().data_as<std::uint8_t>(),
      held->images().data_as<std::uint8_t>() + held->images().nbytes());
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  while (loader.stats().images_decoded < 15 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(loader.stats().images_decoded, 15u) << "the held slot and two prefetched batches";

  const Epoch epoch1 = read_epoch(loader, 1);  // with two slots: one stays held
  EXPECT_EQ(epoch1.labels, expected.labels);
  EXPECT_TRUE(epoch1.pixels == expected.pixels);
  EXPECT_EQ(epoch1.batch_indices, expected.batch_indices);
  EXPECT_EQ(held->epoch(), 0);
  EXPECT_TRUE(
      std::equal(held_pixels.begin(), held_pixels.end(), held->images().data_as<std::uint8_t>()))
      << "a held batch is never written over";
}

// A worker still decoding an image of the old epoch when the new one starts must not deliver it
// or write into a slot the new epoch uses, and its slot must serve again once it is done.
TEST(Loader, StartEpochWhileAWorkerIsMidImageDiscardsItsWork) {
  LoaderTree tree;
  add_photos(tree, 12);
  const Food101Index index = tree.index();
  HostAllocator memory;
  LoaderOptions options = options_with(4, 2, 3);
  options.prefetch = 2;
  const int slow = [&] {
    Loader probe(index, options, memory);
    return read_epoch(probe, 0).labels[0];
  }();
  testing::write_file(tree.image_path(slow), LoaderTree::jpeg(1600, 1600, slow));  // tens of ms
  Loader reference(index, options, memory);
  const Epoch expected = read_epoch(reference, 1);
  ASSERT_NE(expected.labels[0], slow)
      << "the stale image must differ from the one it could overwrite";

  Loader loader(index, options, memory);
  loader.start_epoch(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a worker takes the slow image first
  loader.start_epoch(1);
  // The other worker fills the new epoch's batches meanwhile, and the stale one finishes.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Reading holding;
  holding.hold_previous = true;
  const Epoch epoch = read_started_epoch(loader, 1, holding);
  EXPECT_EQ(epoch.labels, expected.labels);
  EXPECT_TRUE(epoch.pixels == expected.pixels);
}

TEST(Loader, NextRefusesToWaitWhenEverySlotIsHeld) {
  LoaderTree tree;
  add_photos(tree, 9);
  HostAllocator memory;
  LoaderOptions options = options_with(3, 2);
  options.prefetch = 2;
  Loader loader(tree.index(), options, memory);
  loader.start_epoch(0);
  std::optional<LoadedBatch> first = loader.next(), second = loader.next();
  EXPECT_THROW(loader.next(), Error);
  first.reset();
  std::optional<LoadedBatch> third = loader.next();
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->index(), 2);
}

TEST(Loader, AMovedBatchHoldsItsSlotOnce) {
  LoaderTree tree;
  add_photos(tree, 6);
  HostAllocator memory;
  LoaderOptions options = options_with(2, 1);
  options.prefetch = 2;
  Loader loader(tree.index(), options, memory);
  loader.start_epoch(0);
  LoadedBatch a = *loader.next();
  LoadedBatch b = *loader.next();
  a = std::move(b);  // gives batch 0's slot back
  EXPECT_EQ(a.index(), 1);
  std::optional<LoadedBatch> c = loader.next();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->index(), 2);
}

TEST(Loader, NextBeforeStartEpochIsAnError) {
  LoaderTree tree;
  add_photos(tree, 3);
  HostAllocator memory;
  Loader loader(tree.index(), options_with(2, 1), memory);
  EXPECT_THROW(loader.next(), Error);
}

TEST(Loader, AnEmptyIndexHasNoBatches) {
  LoaderTree tree;
  HostAllocator memory;
  Loader loader(tree.index(), options_with(4, 2), memory);
  EXPECT_EQ(loader.batches_per_epoch(), 0);
  EXPECT_TRUE(read_epoch(loader, 0).labels.empty());
}

TEST(Loader, RefusesOptionsThatMakeNoBatches) {
  LoaderTree tree;
  add_photos(tree, 3);
  const Food101Index index = tree.index();
  HostAllocator memory;
  EXPECT_THROW(Loader(index, options_with(0, 1), memory), Error);
  LoaderOptions options = options_with(2, 1);
  options.image_size = 0;
  EXPECT_THROW(Loader(index, options, memory), Error);
  EXPECT_EQ(memory.stats().allocated_bytes, 0u);
}

// The first image is a named pipe: its worker blocks opening it, so next() is surely waiting when
// stop() comes. Opening the pipe for writing afterwards lets the worker finish its image.
TEST(Loader, StopWakesANextThatWaitsAndTheWorkersExit) {
  LoaderTree tree;
  tree.add_fifo();
  add_photos(tree, 3);
  HostAllocator memory;
  LoaderOptions options = options_with(2, 1);
  options.train = false;
  auto loader = std::make_unique<Loader>(tree.index(), options, memory);
  loader->start_epoch(0);
  std::future<std::optional<LoadedBatch>> waiting =
      std::async(std::launch::async, [&] { return loader->next(); });
  ASSERT_EQ(waiting.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "next() should wait for the batch whose image blocks";
  loader->stop();
  if (waiting.wait_for(seconds(5)) != std::future_status::ready) {
    std::fprintf(stderr, "next() hangs after stop()\n");
    std::abort();  // the future's destructor would wait for it forever
  }
  EXPECT_FALSE(waiting.get().has_value());
  EXPECT_FALSE(loader->next().has_value());
  loader->stop();  // again: harmless

  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  for (;;) {  // no reader yet is ENXIO: the worker has not reached open()
    const int fd = ::open(tree.image_path(0).c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) {
      ::close(fd);
      break;
    }
    ASSERT_EQ(errno, ENXIO) << std::strerror(errno);
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the worker never opened the pipe";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  finish_within(seconds(5), "destroying a stopped loader", [&] { loader.reset(); });
  EXPECT_EQ(memory.stats().allocated_bytes, 0u);
}

TEST(Loader, DestroyingWithThePrefetchQueueFullDoesNotHang) {
  LoaderTree tree;
  add_photos(tree, 23);
  HostAllocator memory;
  LoaderOptions options = options_with(5, 2);
  options.prefetch = 2;
  auto loader = std::make_unique<Loader>(tree.index(), options, memory);
  loader->start_epoch(0);
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  while (loader->stats().images_decoded < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(loader->stats().images_decoded, 10u) << "two batches fill the queue";
  finish_within(seconds(5), "destroying a loader with a full queue", [&] { loader.reset(); });
  EXPECT_EQ(memory.stats().allocated_bytes, 0u);
}

TEST(Loader, DestroyingWhileWorkersDecodeDoesNotHang) {
  LoaderTree tree;
  add_photos(tree, 40);
  HostAllocator memory;
  for (int consumed : {0, 1, 3}) {
    auto loader = std::make_unique<Loader>(tree.index(), options_with(4, 3), memory);
    loader->start_epoch(0);
    for (int b = 0; b < consumed; ++b) loader->next();
    finish_within(seconds(5), "destroying a loader mid-epoch", [&] { loader.reset(); });
    EXPECT_EQ(memory.stats().allocated_bytes, 0u) << consumed << " batches taken";
  }
}

TEST(Loader, StartingEpochsInQuickSuccessionDeliversTheLastOne) {
  LoaderTree tree;
  add_photos(tree, 23);
  const Food101Index index = tree.index();
  HostAllocator memory;
  LoaderOptions options = options_with(5, 3);
  Loader reference(index, options, memory);
  const Epoch expected = read_epoch(reference, 4);
  Loader loader(index, options, memory);
  for (std::int64_t e : {0, 1, 2, 3}) loader.start_epoch(e);
  const Epoch epoch = read_epoch(loader, 4);
  EXPECT_EQ(epoch.labels, expected.labels);
  EXPECT_TRUE(epoch.pixels == expected.pixels);
}

}  // namespace
}  // namespace r50
