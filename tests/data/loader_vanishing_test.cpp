// Files and folders that go away, or become unreadable, while the loader runs: each image is
// skipped, counted and named as a corrupt one is, and an epoch left without a single image ends in
// an error that says so, not in a caller that starts epoch after epoch of nothing.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "data/loader.h"
#include "data/loader_fixtures.h"
#include "memory/host_allocator.h"

namespace r50 {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

const char* const kMissing = "cannot read: No such file or directory";

// Index order, two images a batch, one prefetch slot: while the caller holds batch 0 no worker
// can start another batch, so a file changed then is read after the change.
LoaderOptions one_batch_ahead() {
  LoaderOptions options;
  options.batch_size = 2;
  options.image_size = 16;
  options.workers = 2;
  options.train = false;
  options.prefetch = 1;
  return options;
}

void add_photos(LoaderTree& tree, int count) {
  for (int k = 0; k < count; ++k) tree.add_photo(24 + k, 20);
}

std::vector<int> labels_of(const LoadedBatch& batch) {
  const std::int32_t* labels = batch.labels().data_as<std::int32_t>();
  return std::vector<int>(labels, labels + batch.labels().numel());
}

// The labels of the rest of the epoch, in order; a loader that hangs aborts the program.
std::vector<int> rest_of_epoch(Loader& loader) {
  return finish_within(seconds(30), "reading the rest of an epoch", [&] {
    std::vector<int> labels;
    while (std::optional<LoadedBatch> batch = loader.next()) {
      const std::vector<int> more = labels_of(*batch);
      labels.insert(labels.end(), more.begin(), more.end());
    }
    return labels;
  });
}

// What next() throws, or "no error".
std::string error_of_next(Loader& loader) {
  return finish_within(seconds(30), "next() over an epoch of unreadable images", [&]() -> std::string {
    try {
      loader.next();
    } catch (const Error& error) {
      return error.message();
    }
    return "no error";
  });
}

bool named(const LoaderStats& stats, const std::string& name, const std::string& reason) {
  for (const std::string& example : stats.skipped_examples) {
    if (example == name + ": " + reason) return true;
  }
  return false;
}

TEST(LoaderVanishingData, FilesDeletedAfterTheLoaderStartedAreSkippedAndNamed) {
  LoaderTree tree;
  add_photos(tree, 6);
  HostAllocator memory;
  Loader loader(tree.index(), one_batch_ahead(), memory);
  loader.start_epoch(0);
  {
    const std::optional<LoadedBatch> first = loader.next();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(labels_of(*first), (std::vector<int>{0, 1}));
    fs::remove(tree.image_path(2));  // the whole of batch 1
    fs::remove(tree.image_path(3));
    fs::remove_all(fs::path(tree.image_path(4)).parent_path());  // image 4's folder
  }
  EXPECT_EQ(rest_of_epoch(loader), std::vector<int>{5}) << "batch 1 passed over, image 4 left out";
  const LoaderStats stats = loader.stats();
  EXPECT_EQ(stats.images_skipped, 3u);
  EXPECT_EQ(stats.bad_images, 3u);
  for (int k : {2, 3, 4}) EXPECT_TRUE(named(stats, tree.image_name(k), kMissing)) << tree.image_name(k);
}

// Root reads whatever the permission bits say: there the file cannot be made unreadable this way,
// and the case is skipped (deletion, above, is the case every machine can make).
TEST(LoaderVanishingData, AFileMadeUnreadableIsSkippedAndNamed) {
  LoaderTree tree;
  add_photos(tree, 4);
  HostAllocator memory;
  Loader loader(tree.index(), one_batch_ahead(), memory);
  loader.start_epoch(0);
  std::optional<LoadedBatch> first = loader.next();
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(::chmod(tree.image_path(2).c_str(), 0), 0);
  const int fd = ::open(tree.image_path(2).c_str(), O_RDONLY);
  if (fd >= 0) {
    ::close(fd);
    first.reset();
    GTEST_SKIP() << "this process reads files whatever their permission bits (it runs as root or with "
                    "CAP_DAC_OVERRIDE), so chmod 000 cannot make one unreadable here";
  }
  first.reset();
  EXPECT_EQ(rest_of_epoch(loader), std::vector<int>{3});
  EXPECT_TRUE(named(loader.stats(), tree.image_name(2), "cannot read: Permission denied"));
}

TEST(LoaderVanishingData, ADataDirectoryThatDisappearsEndsTheNextEpochInAnError) {
  LoaderTree tree;
  add_photos(tree, 6);
  HostAllocator memory;
  Loader loader(tree.index(), one_batch_ahead(), memory);
  loader.start_epoch(0);
  {
    const std::optional<LoadedBatch> first = loader.next();
    ASSERT_TRUE(first.has_value());
    fs::remove_all(fs::path(tree.root()) / "images");
  }
  EXPECT_TRUE(rest_of_epoch(loader).empty()) << "the epoch's other batches are passed over";
  loader.start_epoch(1);
  const std::string message = error_of_next(loader);
  EXPECT_NE(message.find("not one of the 6 images of epoch 1 could be read or decoded"), std::string::npos)
      << message;
  EXPECT_NE(message.find(kMissing), std::string::npos) << message;
  EXPECT_NE(message.find(tree.root()), std::string::npos) << message;
  const LoaderStats stats = loader.stats();
  EXPECT_EQ(stats.images_skipped, 4u + 6u) << "images 2-5 in epoch 0, all six in epoch 1";
  EXPECT_EQ(stats.bad_images, 6u);
}

TEST(LoaderVanishingData, AnEpochWithoutOneReadableImageIsAnError) {
  LoaderTree tree;
  tree.add_missing();
  tree.add_file("");
  tree.add_file("not a picture");
  HostAllocator memory;
  Loader loader(tree.index(), one_batch_ahead(), memory);
  loader.start_epoch(0);
  const std::string message = error_of_next(loader);
  EXPECT_NE(message.find("not one of the 3 images of epoch 0 could be read or decoded"), std::string::npos)
      << message;
  loader.stop();
  EXPECT_FALSE(loader.next().has_value()) << "after stop(), nothing rather than the error";
}

}  // namespace
}  // namespace r50
