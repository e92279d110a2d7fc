// defines: CudnnApi, cudnn_api_name, parse_cudnn_api
#pragma once

#include <string>

namespace r50 {

// Which of cuDNN's APIs runs the CUDA backend's convolutions (--cudnn-api): the legacy descriptor
// API (cudnn_conv.cpp) or the graph API through cudnn-frontend (cudnn_graph.cpp). Legacy is the
// default until measurements on GPUs say which is faster where.
enum class CudnnApi { Legacy, Graph };

const char* cudnn_api_name(CudnnApi api);           // "legacy", "graph"
CudnnApi parse_cudnn_api(const std::string& text);  // throws on anything else

}  // namespace r50
