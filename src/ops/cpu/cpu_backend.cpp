#include "ops/cpu/cpu_backend.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#ifdef R50_WITH_OPENBLAS
#include <cblas.h>
#endif

#include "core/half.h"
#include "core/host.h"

namespace r50 {

CpuBackend::CpuBackend(int threads, std::size_t memory_limit_bytes)
    : allocator_(memory_limit_bytes), threads_(threads > 0 ? threads : omp_get_num_procs()) {
  // OpenMP's count is also passed to every parallel region (num_threads), so that it holds when
  // the backend is driven from another thread. OpenBLAS runs single-threaded inside OpenMP's
  // threads (see sgemm in gemm.cpp): one pool of threads, not two that spin against each other.
  omp_set_num_threads(threads_);
#ifdef R50_WITH_OPENBLAS
  openblas_set_num_threads(1);
#endif
}

DeviceInfo CpuBackend::device_info() const {
  DeviceInfo info;
  info.name = host_cpu_model();
  if (info.name.empty()) info.name = "cpu";
  info.multiprocessors = threads_;
  return info;
}

std::unique_ptr<Backend> make_cpu_backend(int threads, const MemoryLimit& memory_limit) {
  const auto physical = static_cast<std::size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return std::make_unique<CpuBackend>(threads, memory_limit.bytes_of(physical));
}

void CpuBackend::copy_from_host(const Tensor& dst, const void* host) {
  R50_CHECK(dst.defined() && dst.device().is_cpu(), "copy_from_host: dst is ", dst.str(),
            " but expected a tensor on cpu");
  R50_CHECK(host || dst.nbytes() == 0, "copy_from_host: the host pointer is null");
  if (dst.nbytes()) std::memmove(dst.data(), host, dst.nbytes());
}

void CpuBackend::copy_to_host(void* host, const Tensor& src) {
  R50_CHECK(src.defined() && src.device().is_cpu(), "copy_to_host: src is ", src.str(),
            " but expected a tensor on cpu");
  R50_CHECK(host || src.nbytes() == 0, "copy_to_host: the host pointer is null");
  if (src.nbytes()) std::memmove(host, src.data(), src.nbytes());
}

Backend::UploadTicket CpuBackend::upload(const Tensor& dst, const void* host) {
  const auto start = std::chrono::steady_clock::now();
  copy_from_host(dst, host);
  UploadTicket ticket;
  ticket.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return ticket;
}

void CpuBackend::copy(const Tensor& dst, const Tensor& src) {
  check_copy(dst, src, device());
  if (src.nbytes()) std::memmove(dst.data(), src.data(), src.nbytes());
}

void CpuBackend::fill(const Tensor& dst, float value) {
  check_fill(dst, device());
  const std::int64_t count = dst.numel();
  if (dst.dtype() != DType::F32) {
    std::uint16_t stored = 0;
    floats_into(&value, 1, &stored, dst.dtype());
    std::fill_n(static_cast<std::uint16_t*>(dst.data()), count, stored);
    return;
  }
  float* data = static_cast<float*>(dst.data());
#pragma omp parallel for num_threads(threads_) schedule(static) if (count > kParallelElements)
  for (std::int64_t i = 0; i < count; ++i) data[i] = value;
}

}  // namespace r50
