#include "ops/cudnn_api.h"

#include "core/error.h"

namespace r50 {

const char* cudnn_api_name(CudnnApi api) {
  switch (api) {
    case CudnnApi::Legacy: return "legacy";
    case CudnnApi::Graph: return "graph";
  }
  return "unknown";
}

CudnnApi parse_cudnn_api(const std::string& text) {
  if (text == "legacy") return CudnnApi::Legacy;
  if (text == "graph") return CudnnApi::Graph;
  R50_THROW("unknown cuDNN API '", text, "': expected legacy or graph");
}

}  // namespace r50
