// defines: ConvolutionAlgorithm, convolution_algorithms_json, convolution_algorithms_table
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace r50 {

// The algorithm a GPU library chose for one convolution shape and direction, in plain terms, so
// that reports need no CUDA header (the bench fills it from CudaBackend::convolution_choices()).
struct ConvolutionAlgorithm {
  std::string direction;               // "forward", "backward_data", "backward_filter"
  std::vector<std::int64_t> input;     // x: [N, C, H, W]
  std::vector<std::int64_t> filter;    // w: [K, C, R, S]
  int stride = 1;
  int padding = 0;
  std::string algorithm;               // "IMPLICIT_PRECOMP_GEMM", ...
  std::uint64_t workspace_bytes = 0;
  double search_ms = 0.0;              // the candidate's measured time under --cudnn-benchmark; 0 otherwise
  std::string dtype = "F32";           // of input, filter and output alike: "F32", "F16", "BF16"
};

// A JSON array, one object per choice with the fields above as keys (the results JSON's
// "cudnn_algorithms").
std::string convolution_algorithms_json(const std::vector<ConvolutionAlgorithm>& algorithms);

// An aligned table for a person, a header line first, one line per choice; each line ends in '\n'.
std::string convolution_algorithms_table(const std::vector<ConvolutionAlgorithm>& algorithms);

}  // namespace r50
