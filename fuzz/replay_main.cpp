// usage: TARGET_replay FILE_OR_DIRECTORY...
// The main() that libFuzzer supplies, reduced to replaying: runs LLVMFuzzerTestOneInput once over
// each file named and each regular file under each directory named (in name order), so that the
// committed corpus is a regression test in builds without libFuzzer (g++, the ci preset). Fails
// when it is given nothing to run, so that a corpus that went missing cannot pass for an empty one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

// Under AddressSanitizer, as libFuzzer's -malloc_limit_mb: a single allocation of over 1 GiB
// fails the replay, so that an input which makes the code ask for gigabytes is caught here too.
// Options in ASAN_OPTIONS come on top of these.
extern "C" const char* __asan_default_options() { return "max_allocation_size_mb=1024"; }

int main(int argc, char** argv) {
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    if (fs::is_directory(arg)) {
      for (const fs::directory_entry& entry : fs::recursive_directory_iterator(arg)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    } else if (fs::is_regular_file(arg)) {
      inputs.push_back(arg);
    } else {
      std::fprintf(stderr, "error: %s is neither a file nor a directory\n", argv[i]);
      return 1;
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::fprintf(stderr, "error: no inputs to replay (usage: %s FILE_OR_DIRECTORY...)\n", argv[0]);
    return 1;
  }
  for (const fs::path& path : inputs) {
    // A buffer exactly as long as the input, as libFuzzer passes it, so that ASan catches a read
    // one byte past its end.
    const std::size_t size = fs::file_size(path);
    const std::unique_ptr<std::uint8_t[]> data(new std::uint8_t[size]);
    std::ifstream in(path, std::ios::binary);
    if (!in.read(reinterpret_cast<char*>(data.get()), static_cast<std::streamsize>(size))) {
      std::fprintf(stderr, "error: cannot read %s\n", path.c_str());
      return 1;
    }
    std::printf("Running: %s (%zu bytes)\n", path.c_str(), size);
    std::fflush(stdout);  // the last name printed is the input that crashed, if one does
    LLVMFuzzerTestOneInput(data.get(), size);
  }
  std::printf("replayed %zu inputs\n", inputs.size());
  return 0;
}
