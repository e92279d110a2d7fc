// defines: CudaBackend::capture, CudaBackend::refuse_while_capturing, CudaBackend::abandon_capture
#include <cuda_runtime.h>

#include <cstdio>
#include <exception>
#include <string>

#include "memory/caching_allocator.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"

namespace r50 {
namespace {

const char* const kCaptureAdvice =
    "run the work once without capture first, so that cuDNN's plans and the allocator's cache are settled, "
    "and enqueue only: no synchronisation, no copy to or from the host";

// An instantiated graph, and the allocator capture that holds the memory it replays on.
class CudaGraph final : public Backend::CapturedWork {
 public:
  CudaGraph(cudaStream_t stream, CachingAllocator& allocator, cudaGraph_t graph, cudaGraphExec_t exec)
      : stream_(stream), allocator_(allocator), graph_(graph), exec_(exec) {}
  ~CudaGraph() override {
    // A replay still running finishes first: what comes after it on the stream, the only place
    // the released memory can be used next, waits for it.
    if (cudaGraphExecDestroy(exec_) != cudaSuccess || cudaGraphDestroy(graph_) != cudaSuccess) cudaGetLastError();
    try {
      allocator_.release_capture();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "warning: %s\n", error.what());
    }
  }
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  void replay() override { R50_CUDA_CHECK(cudaGraphLaunch(exec_, stream_)); }

 private:
  cudaStream_t stream_;
  CachingAllocator& allocator_;
  cudaGraph_t graph_;
  cudaGraphExec_t exec_;
};

// The CUDA backend's allocator is always a CachingAllocator (make_cuda_device_allocator).
CachingAllocator& caching(Allocator& allocator) {
  auto* found = dynamic_cast<CachingAllocator*>(&allocator);
  R50_CHECK(found, "CUDA graph capture needs the caching allocator, which holds the graph's memory");
  return *found;
}

}  // namespace

void CudaBackend::refuse_while_capturing(const char* what) const {
  R50_CHECK(!capturing_, what, " while a CUDA graph is being captured: captured work may only enqueue ",
            "work on the device, never wait for it or move data through the host");
}

void CudaBackend::abandon_capture() {
  capturing_ = false;
  cudaGraph_t partial = nullptr;
  if (cudaStreamEndCapture(stream_, &partial) == cudaSuccess && partial) cudaGraphDestroy(partial);
  cudaGetLastError();  // capture errors are not sticky: clear what the failure left
  CachingAllocator& allocator = caching(*allocator_);
  try {
    allocator.end_capture();
    allocator.release_capture();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "warning: %s\n", error.what());
  }
}

// Thread-local mode: this thread's calls that could wait for the device or the capture (cudaMalloc,
// cudaMemcpy, an event query) fail at once rather than break the graph, and other threads' calls
// are not refused as global mode would refuse them. cuDNN and cuBLAS only launch on the stream
// they were given, with workspaces the allocator served, which capture records as kernels.
std::unique_ptr<Backend::CapturedWork> CudaBackend::capture(const std::function<void()>& work) {
  R50_CHECK(!capturing_, "capture: a CUDA graph capture is already under way on this backend");
  CachingAllocator& allocator = caching(*allocator_);
  R50_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  capturing_ = true;
  try {
    allocator.begin_capture();
  } catch (...) {
    capturing_ = false;
    cudaGraph_t partial = nullptr;
    if (cudaStreamEndCapture(stream_, &partial) == cudaSuccess && partial) cudaGraphDestroy(partial);
    cudaGetLastError();
    throw;
  }
  try {
    work();
  } catch (const std::exception& error) {
    const std::string why = error.what();
    abandon_capture();
    R50_THROW("CUDA graph capture failed and was abandoned: ", why, " (", kCaptureAdvice, ")");
  }
  capturing_ = false;
  allocator.end_capture();
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(stream_, &graph);
  if (ended != cudaSuccess) {
    cudaGetLastError();
    if (graph) cudaGraphDestroy(graph);
    allocator.release_capture();
    R50_THROW("cudaStreamEndCapture failed: ", cudaGetErrorName(ended), " (", cudaGetErrorString(ended),
              "): something the captured work called is not allowed under capture (", kCaptureAdvice, ")");
  }
  cudaGraphExec_t exec = nullptr;
  const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
  if (instantiated != cudaSuccess) {
    cudaGetLastError();
    cudaGraphDestroy(graph);
    allocator.release_capture();
    R50_THROW("cudaGraphInstantiate failed: ", cudaGetErrorName(instantiated), " (",
              cudaGetErrorString(instantiated), ")");
  }
  return std::make_unique<CudaGraph>(stream_, allocator, graph, exec);
}

}  // namespace r50
