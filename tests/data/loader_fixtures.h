// defines: LoaderTree, finish_within
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <utility>

#include "data/food101_index.h"
#include "data/jpeg_fixtures.h"

namespace r50 {

// A small Food-101 tree in a temporary directory, removed with the object. Each listed image
// has a class of its own, in the order added, so a label names its image: label k is entry k.
class LoaderTree {
 public:
  LoaderTree();
  ~LoaderTree();
  LoaderTree(const LoaderTree&) = delete;
  LoaderTree& operator=(const LoaderTree&) = delete;

  void add_photo(int width, int height);    // a JPEG with a pattern of its own
  void add_file(const std::string& bytes);  // a .jpg holding these bytes (empty, cut short)
  void add_missing();                       // listed, never written
  void add_fifo();  // a named pipe: reading it blocks until it is opened for writing
  void add_index_line(const std::string& text);  // a line of meta/train.txt that names no entry

  std::string root() const { return dir_.path().string(); }
  std::string image_path(int k) const;  // root/images/cK/K.jpg
  std::string image_name(int k) const;  // "images/cK/K.jpg", as the loader names it
  int size() const { return count_; }
  // Writes meta/ and reads it back as the train split.
  Food101Index index() const;

  // A JPEG of width × height whose smooth pattern and noise depend on `pattern`.
  static std::string jpeg(int width, int height, int pattern, int quality = 90);

 private:
  std::string add_entry();  // lists the next entry; returns its image path

  testing::TempDir dir_;
  int count_ = 0;
  std::string train_lines_;  // meta/train.txt
};

// Runs `work` on a thread of its own and returns its result, or aborts the program (a hang cannot
// be undone: the stuck thread still uses the test's objects) when it takes over `limit`.
template <typename Work>
auto finish_within(std::chrono::seconds limit, const char* what, Work work) -> decltype(work()) {
  std::packaged_task<decltype(work())()> task(std::move(work));
  auto result = task.get_future();
  std::thread thread(std::move(task));
  if (result.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "%s did not finish within %lld s: it hangs\n", what,
                 static_cast<long long>(limit.count()));
    std::abort();
  }
  thread.join();
  return result.get();
}

}  // namespace r50
