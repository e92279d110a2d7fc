#include "ops/cuda/cuda_backend.h"

#include <cuda_runtime.h>

#include <utility>
#include <vector>

#include "kernels.h"
#include "memory/cuda_memory.h"
#include "ops/cuda/cublas_check.h"
#include "ops/cuda/cuda_check.h"
#include "ops/cuda/cudnn_conv.h"
#include "ops/cuda/cudnn_graph.h"
#include "ops/op_checks.h"

namespace r50 {
namespace {

// cuBLAS's advice for its workspace: 32 MiB on Hopper, 4 MiB before it.
std::size_t cublas_workspace_bytes(int compute_capability_major) {
  return (compute_capability_major >= 9 ? 32u : 4u) << 20;
}

DeviceInfo query_device(int gpu) {
  cudaDeviceProp prop{};
  R50_CUDA_CHECK(cudaGetDeviceProperties(&prop, gpu));
  DeviceInfo info;
  info.name = prop.name;
  info.multiprocessors = prop.multiProcessorCount;
  info.compute_capability_major = prop.major;
  info.compute_capability_minor = prop.minor;
  info.memory_bytes = prop.totalGlobalMem;
  R50_CUDA_CHECK(cudaDriverGetVersion(&info.driver_version));
  R50_CUDA_CHECK(cudaRuntimeGetVersion(&info.runtime_version));
  info.cudnn_compiled_version = cudnn_compiled_version();
  info.cudnn_loaded_version = cudnn_loaded_version();
  info.cublas_compiled_version = CUBLAS_VERSION;
  return info;
}

// Marks as CUDA events on the compute stream, made once, so that recording one costs no allocation
// and no synchronisation.
class EventTimer final : public Backend::Timer {
 public:
  EventTimer(cudaStream_t stream, int marks) : stream_(stream), events_(static_cast<std::size_t>(marks), nullptr) {
    for (cudaEvent_t& event : events_) R50_CUDA_CHECK(cudaEventCreate(&event));
  }
  ~EventTimer() override {
    for (cudaEvent_t event : events_) {
      if (event) cudaEventDestroy(event);
    }
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;

  void record(int mark) override { R50_CUDA_CHECK(cudaEventRecord(at(mark), stream_)); }
  double milliseconds(int from, int to) override {
    R50_CUDA_CHECK(cudaEventSynchronize(at(to)));
    float elapsed = 0.0f;
    R50_CUDA_CHECK(cudaEventElapsedTime(&elapsed, at(from), at(to)));
    return elapsed;
  }

 private:
  cudaEvent_t at(int mark) const {
    R50_CHECK(mark >= 0 && static_cast<std::size_t>(mark) < events_.size(), "timer mark ", mark, " of ",
              events_.size());
    return events_[static_cast<std::size_t>(mark)];
  }

  cudaStream_t stream_;
  std::vector<cudaEvent_t> events_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

CudaBackend::CudaBackend(const CudaBackendOptions& options) : options_(options) {
  int count = 0;
  R50_CUDA_CHECK(cudaGetDeviceCount(&count));
  R50_CHECK(options.gpu >= 0 && options.gpu < count, "--gpu ", options.gpu, " but ", count,
            " GPU", count == 1 ? "" : "s", " answer (indices 0 to ", count - 1, ")");
  R50_CUDA_CHECK(cudaSetDevice(options.gpu));
  info_ = query_device(options.gpu);
  const int capability = info_.compute_capability_major * 10 + info_.compute_capability_minor;
  R50_CHECK(capability >= minimum_compute_capability(options.precision), "--precision ",
            precision_name(options.precision), " needs compute capability ",
            minimum_compute_capability(options.precision) / 10, ".", minimum_compute_capability(options.precision) % 10,
            " or newer, but ", info_.name, " is ", info_.compute_capability(),
            "; --precision fp32 runs there");
  char pci_bus_id[32] = {};
  R50_CUDA_CHECK(cudaDeviceGetPCIBusId(pci_bus_id, sizeof pci_bus_id, options.gpu));
  pci_bus_id_ = pci_bus_id;
  const GpuClocks clocks = read_gpu_clocks(pci_bus_id_);
  info_.max_sm_clock_mhz = clocks.max_sm_mhz;
  info_.max_memory_clock_mhz = clocks.max_memory_mhz;
  info_.power_limit_watts = clocks.power_limit_watts;
  info_.driver_release = clocks.driver_version;
  allocator_ = make_cuda_device_allocator(options.gpu, options.memory_limit.bytes_of(info_.memory_bytes));
  R50_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  R50_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_stream_, cudaStreamNonBlocking));
  R50_CUBLAS_CHECK(cublasCreate(&cublas_));
  R50_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  R50_CUBLAS_CHECK(cublasGetVersion(cublas_, &info_.cublas_loaded_version));
  // fp32, and the F32 GEMMs of fp16 and bf16: cuBLAS's default math, which uses no TF32 unless
  // NVIDIA_TF32_OVERRIDE says otherwise. GEMMs on F16 or BF16 data take tensor cores under it anyway.
  if (options.precision == Precision::Tf32) R50_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_TF32_TENSOR_OP_MATH));
  // cuBLAS would otherwise take its workspace from the runtime behind the allocator's back.
  cublas_workspace_ = Buffer(*allocator_, cublas_workspace_bytes(info_.compute_capability_major));
  R50_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_.data(), cublas_workspace_.bytes()));
  const bool tf32 = options.precision == Precision::Tf32;
  if (options.cudnn_api == CudnnApi::Graph) {
    convolutions_ = std::make_unique<CudnnGraphConvolutions>(*allocator_, stream_, options.cudnn_benchmark, tf32);
  } else {
    convolutions_ = std::make_unique<CudnnConvolutions>(*allocator_, stream_, options.cudnn_benchmark, tf32);
  }
}

CudaBackend::~CudaBackend() {
  // Nothing here may throw: report and go on.
  if (stream_ && cudaStreamSynchronize(stream_) != cudaSuccess) cudaGetLastError();
  convolutions_.reset();
  for (Ones& ones : ones_) ones.buffer.reset();
  if (cublas_) cublasDestroy(cublas_);
  cublas_workspace_.reset();
  if (copy_stream_ && cudaStreamSynchronize(copy_stream_) != cudaSuccess) cudaGetLastError();
  if (copy_stream_) cudaStreamDestroy(copy_stream_);
  if (stream_) cudaStreamDestroy(stream_);
}

void CudaBackend::synchronize() {
  refuse_while_capturing("synchronize()");
  R50_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

std::unique_ptr<Backend::Timer> CudaBackend::make_timer(int marks) {
  R50_CHECK(marks > 0, "make_timer: ", marks, " marks");
  return std::make_unique<EventTimer>(stream_, marks);
}

const void* CudaBackend::ones(std::int64_t count, DType dtype) {
  const kernels::Storage storage = storage_of(dtype);
  Ones& ones = ones_[static_cast<std::size_t>(storage)];
  if (count > ones.count) {
    // Under capture the fill would only be recorded, and the eager calls after it would read
    // whatever the new buffer held: the warm-up steps size the vector first.
    refuse_while_capturing("growing the vector of ones");
    ones.buffer = Buffer(*allocator_, static_cast<std::size_t>(count) * dtype_size(dtype));
    ones.count = count;
    R50_CUDA_CHECK(kernels::fill(ones.buffer.data(), storage, count, 1.0f, stream_));
  }
  return ones.buffer.data();
}

void CudaBackend::copy_from_host(const Tensor& dst, const void* host) {
  R50_CHECK(dst.defined() && dst.device() == device(), "copy_from_host: dst is ", dst.str(),
            " but expected a tensor on ", device().str());
  R50_CHECK(host || dst.nbytes() == 0, "copy_from_host: the host pointer is null");
  refuse_while_capturing("copy_from_host()");
  // From pageable memory cudaMemcpyAsync returns once the bytes are staged, so the caller may
  // reuse `host` at once; from pinned memory the caller keeps it until the stream has passed.
  if (dst.nbytes()) {
    R50_CUDA_CHECK(cudaMemcpyAsync(dst.data(), host, dst.nbytes(), cudaMemcpyHostToDevice, stream_));
  }
}

void CudaBackend::copy_to_host(void* host, const Tensor& src) {
  R50_CHECK(src.defined() && src.device() == device(), "copy_to_host: src is ", src.str(),
            " but expected a tensor on ", device().str());
  R50_CHECK(host || src.nbytes() == 0, "copy_to_host: the host pointer is null");
  refuse_while_capturing("copy_to_host()");
  if (src.nbytes()) {
    R50_CUDA_CHECK(cudaMemcpyAsync(host, src.data(), src.nbytes(), cudaMemcpyDeviceToHost, stream_));
  }
  synchronize();  // the caller reads `host` next
}

Backend::UploadTicket CudaBackend::upload(const Tensor& dst, const void* host) {
  R50_CHECK(dst.defined() && dst.device() == device(), "upload: dst is ", dst.str(),
            " but expected a tensor on ", device().str());
  R50_CHECK(host || dst.nbytes() == 0, "upload: the host pointer is null");
  refuse_while_capturing("upload()");
  // The copy stream first waits for the compute enqueued so far, which may still read dst.
  cudaEvent_t computed = nullptr, started = nullptr, copied = nullptr;
  R50_CUDA_CHECK(cudaEventCreateWithFlags(&computed, cudaEventDisableTiming));
  R50_CUDA_CHECK(cudaEventRecord(computed, stream_));
  R50_CUDA_CHECK(cudaStreamWaitEvent(copy_stream_, computed, 0));
  R50_CUDA_CHECK(cudaEventDestroy(computed));  // released once it has completed
  R50_CUDA_CHECK(cudaEventCreate(&started));
  R50_CUDA_CHECK(cudaEventRecord(started, copy_stream_));
  if (dst.nbytes()) {
    R50_CUDA_CHECK(cudaMemcpyAsync(dst.data(), host, dst.nbytes(), cudaMemcpyHostToDevice, copy_stream_));
  }
  R50_CUDA_CHECK(cudaEventCreate(&copied));
  R50_CUDA_CHECK(cudaEventRecord(copied, copy_stream_));
  UploadTicket ticket;
  ticket.event = copied;
  ticket.started = started;
  return ticket;
}

void CudaBackend::wait_for_upload(const UploadTicket& ticket) {
  R50_CHECK(ticket.event, "wait_for_upload: the ticket was finished or never issued");
  refuse_while_capturing("wait_for_upload()");
  R50_CUDA_CHECK(cudaStreamWaitEvent(stream_, static_cast<cudaEvent_t>(ticket.event), 0));
}

void CudaBackend::finish_upload(UploadTicket& ticket) {
  R50_CHECK(ticket.event, "finish_upload: the ticket was finished or never issued");
  refuse_while_capturing("finish_upload()");
  const auto copied = static_cast<cudaEvent_t>(std::exchange(ticket.event, nullptr));
  const auto started = static_cast<cudaEvent_t>(std::exchange(ticket.started, nullptr));
  R50_CUDA_CHECK(cudaEventSynchronize(copied));
  float elapsed = 0.0f;
  R50_CUDA_CHECK(cudaEventElapsedTime(&elapsed, started, copied));
  ticket.milliseconds = elapsed;
  R50_CUDA_CHECK(cudaEventDestroy(started));
  R50_CUDA_CHECK(cudaEventDestroy(copied));
}

void CudaBackend::copy(const Tensor& dst, const Tensor& src) {
  check_copy(dst, src, device());
  if (src.nbytes()) {
    R50_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), src.nbytes(), cudaMemcpyDeviceToDevice, stream_));
  }
}

kernels::Storage storage_of(DType dtype) {
  switch (dtype) {
    case DType::F32: return kernels::Storage::F32;
    case DType::F16: return kernels::Storage::F16;
    case DType::BF16: return kernels::Storage::BF16;
    default: R50_THROW("the CUDA kernels do not compute on ", dtype_name(dtype), " elements");
  }
}

kernels::Storage storage_of(const Tensor& tensor) {
  R50_CHECK(is_floating(tensor.dtype()), "the CUDA kernels do not compute on ", tensor.str());
  return storage_of(tensor.dtype());
}

void CudaBackend::fill(const Tensor& dst, float value) {
  check_fill(dst, device());
  R50_CUDA_CHECK(kernels::fill(dst.data(), storage_of(dst), dst.numel(), value, stream_));
}

}  // namespace r50
