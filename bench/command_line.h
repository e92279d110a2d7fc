// defines: CommandLine, split_benchmark_flags
#pragma once

#include <string>
#include <vector>

namespace r50 {

// A benchmark program's arguments, parted: the --benchmark_* flags go to Google Benchmark, the rest
// to the program's own parser. Both keep argv[0] first, as each parser expects.
struct CommandLine {
  std::vector<char*> ours;
  std::vector<char*> benchmark;
};

inline CommandLine split_benchmark_flags(int argc, char** argv) {
  CommandLine line{{argv[0]}, {argv[0]}};
  for (int i = 1; i < argc; ++i) {
    (std::string(argv[i]).rfind("--benchmark_", 0) == 0 ? line.benchmark : line.ours).push_back(argv[i]);
  }
  return line;
}

}  // namespace r50
