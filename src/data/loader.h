// defines: kNamedBadEntries, LoaderOptions, LoaderStats, LoadedBatch, Loader
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "data/decode.h"
#include "data/food101_index.h"
#include "memory/allocator.h"

namespace r50 {

struct LoaderOptions {
  int batch_size = 64;
  int image_size = 224;
  int workers = 0;  // decoding threads; 0: every core
  bool train = true;  // augment_train, shuffled each epoch; false: augment_eval in index order
  bool drop_last = false;  // drop an epoch's last, short batch
  std::uint64_t seed = 0;
  int prefetch = 0;  // batches decoded ahead of the consumer; 0: two per worker, at most 8
  DecodeLimits limits;
};

// Bad entries named one by one, in LoaderStats and in the reports made from it; past this many,
// reports give the exact count and counts by reason instead of a line per entry (a broken copy
// of the data set must not print 40,000 lines).
constexpr std::size_t kNamedBadEntries = 100;

struct LoaderStats {
  std::uint64_t images_decoded = 0;
  std::uint64_t images_skipped = 0;  // could not be read or decoded, each time one came up
  std::uint64_t bad_images = 0;      // distinct images skipped at least once
  double decode_seconds = 0.0;       // reading, decoding and augmenting, summed over workers
  double wait_seconds = 0.0;         // how long next() kept its caller waiting
  // Each bad image once, in the order found, up to kNamedBadEntries of them:
  // "images/a/1.jpg: truncated (no end-of-image marker)".
  std::vector<std::string> skipped_examples;
  // How many bad images each reason accounts for, in the order first seen, summing to bad_images.
  // Reasons past the first few dozen (a header's size is part of its reason) are pooled under
  // kOtherReasons.
  std::vector<std::pair<std::string, std::uint64_t>> bad_image_reasons;
  // The index's lines passed over when it was read (Food101Index::skipped), so that the stats
  // account for every entry of the split that the run could not use.
  std::vector<SkippedLine> index_lines_skipped;

  static constexpr const char* kOtherReasons = "other reasons";
};

class Loader;

// One batch of the prefetch queue: images U8 [n, S, S, 3] (RGB, as decoded) and labels I32 [n],
// in host memory from the loader's allocator (pinned when the consumer copies to a GPU). n is the
// batch size, or less where images were skipped or the epoch ends. The memory goes back to the
// loader when the LoadedBatch is destroyed: keep it until any asynchronous copy from it is done.
class LoadedBatch {
 public:
  LoadedBatch(LoadedBatch&& other) noexcept;
  LoadedBatch& operator=(LoadedBatch&& other) noexcept;
  LoadedBatch(const LoadedBatch&) = delete;
  LoadedBatch& operator=(const LoadedBatch&) = delete;
  ~LoadedBatch();

  const Tensor& images() const { return images_; }
  const Tensor& labels() const { return labels_; }
  std::int64_t epoch() const { return epoch_; }
  std::int64_t index() const { return index_; }  // the batch's position in its epoch

 private:
  friend class Loader;
  LoadedBatch(Loader* loader, int slot, Tensor images, Tensor labels, std::int64_t epoch,
              std::int64_t index);

  Loader* loader_ = nullptr;
  int slot_ = -1;
  Tensor images_, labels_;
  std::int64_t epoch_ = 0, index_ = 0;
};

// Worker threads read, decode and augment the index's images into a bounded queue of batches,
// delivered in order. The order of an epoch is a shuffle keyed by (seed, epoch) under `train`,
// the index order otherwise; every random draw is keyed by (seed, epoch, image index), so the
// batches are the same whatever the number of workers. An image that cannot be read or decoded is
// skipped, counted and named in the statistics, never a crash.
class Loader {
 public:
  Loader(const Food101Index& index, const LoaderOptions& options, Allocator& host_memory);
  ~Loader();  // stop(), then waits for the workers
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Starts epoch `epoch` (0, 1, ...): discards whatever was decoded ahead for another epoch.
  void start_epoch(std::int64_t epoch);
  // The epoch's next batch, waiting for it if need be; nothing at the end of the epoch or after
  // stop(). A batch none of whose images decoded is passed over (its index is missing from the
  // epoch). Throws before the first start_epoch(), when the caller holds every prefetch slot
  // (nothing could ever arrive), and at the end of an epoch none of whose images decoded (the
  // data has gone or is unreadable: a caller that starts the next epoch would loop forever on
  // nothing). Every batch handed out must be destroyed before the Loader.
  std::optional<LoadedBatch> next();
  // Workers finish the image in hand and exit; next() returns nothing from then on. Safe to call
  // from another thread, such as one that waits for signals (not from inside a signal handler: it
  // takes a lock), and more than once.
  void stop();

  std::int64_t batches_per_epoch() const;
  const LoaderOptions& options() const { return options_; }
  LoaderStats stats() const;

 private:
  friend class LoadedBatch;
  void release(int slot);

  struct State;
  LoaderOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace r50
