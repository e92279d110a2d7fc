#include "data/loader.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>

#include "core/error.h"
#include "core/host.h"
#include "core/rng.h"
#include "data/augment.h"
#include "memory/buffer.h"

namespace r50 {
namespace {

// An image's draws come from Rng::keyed(seed, epoch, image index); no index reaches this key, so
// the epoch's shuffle has a stream of its own.
constexpr std::uint64_t kShuffleKey = ~std::uint64_t{0};
// Distinct reasons counted one by one: enough for every way a file fails, while sizes that vary
// from file to file ("70000x70000 pixels is over ...") cannot grow the list without bound.
constexpr std::size_t kReasonsCounted = 32;

using Clock = std::chrono::steady_clock;

// The epoch's images as positions in the index: a Fisher-Yates shuffle keyed by (seed, epoch)
// when training, the index order otherwise.
std::vector<std::size_t> epoch_order(std::size_t images, const LoaderOptions& options,
                                     std::int64_t epoch) {
  std::vector<std::size_t> order(images);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (options.train) {
    Rng rng = Rng::keyed(options.seed, static_cast<std::uint64_t>(epoch), kShuffleKey);
    for (std::size_t i = images; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  }
  return order;
}

// Memory for one batch, and where that batch stands. Free: no batch (stale writers of a
// discarded epoch may still be finishing, see `writers`); Filling: workers decode into it;
// Ready: complete, waiting for next(); Held: a LoadedBatch has it.
struct Slot {
  enum class Stage { Free, Filling, Ready, Held };

  Buffer images, labels;
  Stage stage = Stage::Free;
  std::int64_t batch = -1;    // the batch it fills or holds
  int size = 0;               // images given to the batch
  int pending = 0;            // of those, not finished yet
  int writers = 0;            // workers writing into its memory now, for any epoch
  int delivered = 0;          // images that decoded, packed at the front
  std::vector<char> decoded;  // per position in the batch
};

}  // namespace

// Work is handed out per image, not per batch: every worker helps with the oldest unfinished
// batch, so the first batch arrives after batch/workers decodes instead of batch decodes, the
// end of an epoch is not one worker finishing a batch alone, and the queue stays in order without
// a slot per worker. A claim takes the next image of the epoch's order; a batch takes a free slot
// when its first image is claimed, so at most `prefetch` batches exist at once.
struct Loader::State {
  struct Claim {
    int slot;
    int position;       // in the batch
    std::size_t image;  // in the index
    std::uint64_t generation;
    std::int64_t epoch;
  };

  State(const Food101Index& food_index, const LoaderOptions& loader_options, Allocator& memory)
      : index(food_index), options(loader_options) {
    image_bytes = static_cast<std::size_t>(options.image_size) * options.image_size * 3;
    const std::size_t images = index.entries.size(), batch = options.batch_size;
    batches_per_epoch = static_cast<std::int64_t>(options.drop_last ? images / batch
                                                                    : (images + batch - 1) / batch);
    epoch_images = std::min<std::size_t>(images, batches_per_epoch * batch);
    bad.assign(images, 0);
    stats.index_lines_skipped = index.skipped;
    slots.resize(options.prefetch);
    for (Slot& slot : slots) {
      slot.images = Buffer(memory, batch * image_bytes);
      slot.labels = Buffer(memory, batch * sizeof(std::int32_t));
    }
  }

  void work() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      work_cv.wait(lock, [&] { return stopped || can_claim(); });
      if (stopped) return;
      const Claim claim = claim_next();
      lock.unlock();
      const Clock::time_point start = Clock::now();
      const std::string error = make_image(claim);
      const double seconds = seconds_since(start);
      lock.lock();
      record(claim, error, seconds);
      finish(claim, error.empty(), lock);
    }
  }

  int free_slot() const {
    for (std::size_t s = 0; s < slots.size(); ++s) {
      if (slots[s].stage == Slot::Stage::Free && slots[s].writers == 0) return static_cast<int>(s);
    }
    return -1;
  }

  bool can_claim() const {
    return started && next_image < epoch_images && (filling_slot >= 0 || free_slot() >= 0);
  }

  Claim claim_next() {
    const std::size_t batch_size = options.batch_size;
    if (filling_slot < 0) {
      filling_slot = free_slot();
      Slot& slot = slots[filling_slot];
      slot.stage = Slot::Stage::Filling;
      slot.batch = static_cast<std::int64_t>(next_image / batch_size);
      slot.size = static_cast<int>(std::min(batch_size, epoch_images - next_image));
      slot.pending = slot.size;
      slot.decoded.assign(batch_size, 0);
    }
    const Claim claim{filling_slot, static_cast<int>(next_image % batch_size), order[next_image],
                      generation, epoch};
    ++slots[filling_slot].writers;
    if (++next_image % batch_size == 0) filling_slot = -1;
    return claim;
  }

  // Reads, decodes and augments one image into its place in the slot; the error, or nothing.
  std::string make_image(const Claim& claim) const {
    const Slot& slot = slots[claim.slot];
    const Food101Entry& entry = index.entries[claim.image];
    static_cast<std::int32_t*>(slot.labels.data())[claim.position] = entry.label;
    std::uint8_t* out =
        static_cast<std::uint8_t*>(slot.images.data()) + claim.position * image_bytes;
    try {
      const std::string path = index.image_path(entry);
      if (options.train) {
        // The crop is drawn from the header's size, so only the crop is decoded.
        TrainDraws draws;
        const auto choose_crop = [&](int width, int height) {
          draws = train_draws(width, height, options.seed, static_cast<std::uint64_t>(claim.epoch),
                              claim.image);
          return draws.box;
        };
        CropBox region;
        const DecodeResult decoded = decode_image_region_file(path, options.limits, choose_crop, &region);
        if (!decoded.ok()) return decoded.error;
        augment_train_region(decoded.image, region, draws, options.image_size, out);
      } else {
        const DecodeResult decoded = decode_image_file(path, options.limits);
        if (!decoded.ok()) return decoded.error;
        augment_eval(decoded.image, options.image_size, out);
      }
      return {};
    } catch (const std::exception& e) {
      return std::string("cannot decode or augment: ") + e.what();
    }
  }

  void record(const Claim& claim, const std::string& error, double seconds) {
    stats.decode_seconds += seconds;
    if (error.empty()) {
      ++stats.images_decoded;
      return;
    }
    ++stats.images_skipped;
    last_skipped = "images/" + index.entries[claim.image].name + ".jpg: " + error;
    // Every epoch skips the same bad files again: count and name each once, with the reason it
    // first failed for (a file that goes away mid-run had decoded before).
    if (bad[claim.image]) return;
    bad[claim.image] = 1;
    ++stats.bad_images;
    count_reason(error);
    if (stats.skipped_examples.size() < kNamedBadEntries) stats.skipped_examples.push_back(last_skipped);
  }

  void count_reason(const std::string& error) {
    std::vector<std::pair<std::string, std::uint64_t>>& reasons = stats.bad_image_reasons;
    const auto find = [&](const std::string& reason) {
      return std::find_if(reasons.begin(), reasons.end(), [&](const auto& r) { return r.first == reason; });
    };
    auto found = find(error);
    if (found == reasons.end()) {
      // The last place is kept for the pool of all the others.
      const std::string reason = reasons.size() + 1 < kReasonsCounted ? error : LoaderStats::kOtherReasons;
      found = find(reason);
      if (found == reasons.end()) found = reasons.emplace(reasons.end(), reason, 0);
    }
    ++found->second;
  }

  void finish(const Claim& claim, bool decoded, std::unique_lock<std::mutex>& lock) {
    Slot& slot = slots[claim.slot];
    if (claim.generation == generation) {
      slot.decoded[claim.position] = decoded;
      if (--slot.pending == 0) {
        // The batch's last image: pack it outside the lock, still counted as a writer so that
        // the slot cannot be reused meanwhile.
        lock.unlock();
        const int delivered = pack(slot);
        lock.lock();
        if (claim.generation == generation) {
          slot.delivered = delivered;
          slot.stage = Slot::Stage::Ready;
          ready_cv.notify_all();
        }
      }
    }
    // A slot freed by start_epoch waits for its last stale writer before it is reused.
    if (--slot.writers == 0 && slot.stage == Slot::Stage::Free) work_cv.notify_all();
  }

  // Moves the images that decoded to the front of the slot, in order; returns their count.
  int pack(Slot& slot) const {
    auto* images = static_cast<std::uint8_t*>(slot.images.data());
    auto* labels = static_cast<std::int32_t*>(slot.labels.data());
    int delivered = 0;
    for (int i = 0; i < slot.size; ++i) {
      if (!slot.decoded[i]) continue;
      if (delivered != i) {
        std::memcpy(images + delivered * image_bytes, images + i * image_bytes, image_bytes);
        labels[delivered] = labels[i];
      }
      ++delivered;
    }
    return delivered;
  }

  int ready_slot(std::int64_t batch) const {
    for (std::size_t s = 0; s < slots.size(); ++s) {
      if (slots[s].stage == Slot::Stage::Ready && slots[s].batch == batch) {
        return static_cast<int>(s);
      }
    }
    return -1;
  }

  const Food101Index index;
  const LoaderOptions options;
  std::size_t image_bytes = 0;
  std::int64_t batches_per_epoch = 0;
  std::size_t epoch_images = 0;  // the images of an epoch's order that make batches
  std::vector<Slot> slots;
  std::vector<std::thread> workers;

  std::mutex mutex;
  std::condition_variable work_cv;   // workers: an image to claim, a slot freed, stop
  std::condition_variable ready_cv;  // next(): a batch ready, stop
  bool stopped = false;
  bool started = false;
  std::uint64_t generation = 0;  // bumped by start_epoch: what older claims made is discarded
  std::int64_t epoch = 0;
  std::vector<std::size_t> order;
  std::size_t next_image = 0;   // the next position of `order` to claim
  int filling_slot = -1;        // the slot of batch next_image / batch_size, once it has one
  std::int64_t next_batch = 0;  // the next batch next() hands out
  std::int64_t handed_out = 0;  // batches of the epoch handed out so far
  std::size_t held = 0;         // slots held by LoadedBatch objects
  LoaderStats stats;
  std::vector<char> bad;        // per index entry: skipped at least once
  std::string last_skipped;     // "images/a/1.jpg: reason" of the latest image skipped
};

LoadedBatch::LoadedBatch(Loader* loader, int slot, Tensor images, Tensor labels, std::int64_t epoch,
                         std::int64_t index)
    : loader_(loader),
      slot_(slot),
      images_(images),
      labels_(labels),
      epoch_(epoch),
      index_(index) {}

LoadedBatch::LoadedBatch(LoadedBatch&& other) noexcept
    : loader_(std::exchange(other.loader_, nullptr)),
      slot_(std::exchange(other.slot_, -1)),
      images_(other.images_),
      labels_(other.labels_),
      epoch_(other.epoch_),
      index_(other.index_) {}

LoadedBatch& LoadedBatch::operator=(LoadedBatch&& other) noexcept {
  if (this != &other) {
    if (loader_) loader_->release(slot_);
    loader_ = std::exchange(other.loader_, nullptr);
    slot_ = std::exchange(other.slot_, -1);
    images_ = other.images_;
    labels_ = other.labels_;
    epoch_ = other.epoch_;
    index_ = other.index_;
  }
  return *this;
}

LoadedBatch::~LoadedBatch() {
  if (loader_) loader_->release(slot_);
}

Loader::Loader(const Food101Index& index, const LoaderOptions& options, Allocator& host_memory)
    : options_(options) {
  R50_CHECK(options.batch_size >= 1, "loader: batch size ", options.batch_size, " is not positive");
  R50_CHECK(options.image_size >= 1, "loader: image size ", options.image_size, " is not positive");
  R50_CHECK(options.workers >= 0, "loader: ", options.workers, " workers");
  R50_CHECK(options.prefetch >= 0, "loader: prefetch of ", options.prefetch, " batches");
  if (options_.workers == 0) {
    options_.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  // Work is handed out per image, so a few batches ahead keep every worker busy; more would only
  // pin memory (a 128-core machine at two per worker: 2.5 GB at batch 64).
  if (options_.prefetch == 0) options_.prefetch = std::min(2 * options_.workers, 8);
  state_ = std::make_unique<State>(index, options_, host_memory);
  try {
    State* state = state_.get();
    for (int w = 0; w < options_.workers; ++w) {
      state->workers.emplace_back([state] { state->work(); });
    }
  } catch (...) {
    stop();
    for (std::thread& worker : state_->workers) worker.join();
    throw;
  }
}

Loader::~Loader() {
  stop();
  for (std::thread& worker : state_->workers) worker.join();
  if (state_->held > 0) {
    std::fprintf(stderr,
                 "Loader destroyed while %zu of its batches are still held: their memory is gone\n",
                 state_->held);
  }
}

void Loader::start_epoch(std::int64_t epoch) {
  R50_CHECK(epoch >= 0, "loader: epoch ", epoch, " is negative");
  std::vector<std::size_t> order = epoch_order(state_->index.entries.size(), options_, epoch);
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.stopped) return;
  ++s.generation;
  s.epoch = epoch;
  s.order = std::move(order);
  s.next_image = 0;
  s.filling_slot = -1;
  s.next_batch = 0;
  s.handed_out = 0;
  s.started = true;
  for (Slot& slot : s.slots) {
    if (slot.stage == Slot::Stage::Filling || slot.stage == Slot::Stage::Ready) {
      slot.stage = Slot::Stage::Free;
      slot.batch = -1;
    }
  }
  s.work_cv.notify_all();
  s.ready_cv.notify_all();
}

std::optional<LoadedBatch> Loader::next() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  R50_CHECK(s.started || s.stopped, "Loader::next() before start_epoch()");
  const Clock::time_point start = Clock::now();
  bool waited = false;
  const auto account_wait = [&] {
    if (waited) s.stats.wait_seconds += seconds_since(start);
  };
  for (;;) {
    if (s.stopped || s.next_batch >= s.batches_per_epoch) {
      account_wait();
      R50_CHECK(s.stopped || s.handed_out > 0 || s.batches_per_epoch == 0, "not one of the ",
                s.epoch_images, " images of epoch ", s.epoch, " could be read or decoded (the last: ",
                s.last_skipped, "): nothing to train on; has the data under ", s.index.root,
                " gone or become unreadable?");
      return std::nullopt;
    }
    const int slot_index = s.ready_slot(s.next_batch);
    if (slot_index >= 0) {
      Slot& slot = s.slots[slot_index];
      ++s.next_batch;
      if (slot.delivered == 0) {  // not one image of the batch decoded: nothing to hand out
        slot.stage = Slot::Stage::Free;
        s.work_cv.notify_all();
        continue;
      }
      slot.stage = Slot::Stage::Held;
      ++s.held;
      ++s.handed_out;
      account_wait();
      const std::int64_t n = slot.delivered, size = options_.image_size;
      return LoadedBatch(this, slot_index,
                         Tensor(slot.images.data(), {n, size, size, 3}, DType::U8),
                         Tensor(slot.labels.data(), {n}, DType::I32), s.epoch, slot.batch);
    }
    R50_CHECK(s.held < s.slots.size(), "Loader::next(): all ", s.slots.size(),
              " prefetch slots are held by LoadedBatch objects, so no batch can be made; destroy "
              "one first or raise LoaderOptions::prefetch");
    waited = true;
    s.ready_cv.wait(lock);
  }
}

void Loader::stop() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->stopped = true;
  state_->work_cv.notify_all();
  state_->ready_cv.notify_all();
}

std::int64_t Loader::batches_per_epoch() const { return state_->batches_per_epoch; }

LoaderStats Loader::stats() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->stats;
}

void Loader::release(int slot) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->slots[slot].stage = Slot::Stage::Free;
  --state_->held;
  state_->work_cv.notify_all();
}

}  // namespace r50
