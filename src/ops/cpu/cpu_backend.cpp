#include "ops/cpu/cpu_backend.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#ifdef R50_WITH_OPENBLAS
#include <cblas.h>
#endif

namespace r50 {

void check_f32_input(const Tensor& tensor, const char* op, const char* argument, int rank) {
  R50_CHECK(tensor.defined(), op, ": ", argument, " is missing (expected a ", rank,
            "-D F32 tensor)");
  R50_CHECK(tensor.dtype() == DType::F32 && tensor.rank() == rank &&
                tensor.layout() == Layout::RowMajor && tensor.device().is_cpu(),
            op, ": ", argument, " is ", tensor.str(), " but expected a ", rank,
            "-D F32 row-major tensor on cpu");
}

CpuBackend::CpuBackend(int threads) : threads_(threads > 0 ? threads : omp_get_num_procs()) {
  // OpenMP's count is also passed to every parallel region (num_threads), so that it holds when
  // the backend is driven from another thread. OpenBLAS runs single-threaded inside OpenMP's
  // threads (see sgemm in gemm.cpp): one pool of threads, not two that spin against each other.
  omp_set_num_threads(threads_);
#ifdef R50_WITH_OPENBLAS
  openblas_set_num_threads(1);
#endif
}

std::unique_ptr<Backend> make_cpu_backend(int threads) {
  return std::make_unique<CpuBackend>(threads);
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

void CpuBackend::copy(const Tensor& dst, const Tensor& src) {
  R50_CHECK(src.defined() && src.device().is_cpu(), "copy: src is ", src.str(),
            " but expected a tensor on cpu");
  R50_CHECK(dst.defined() && dst.device().is_cpu() && dst.dtype() == src.dtype() &&
                dst.shape() == src.shape() && dst.layout() == src.layout(),
            "copy: dst is ", dst.str(), " but src is ", src.str());
  if (src.nbytes()) std::memmove(dst.data(), src.data(), src.nbytes());
}

void CpuBackend::fill(const Tensor& dst, float value) {
  R50_CHECK(dst.defined() && dst.dtype() == DType::F32 && dst.device().is_cpu(), "fill: dst is ",
            dst.str(), " but expected an F32 tensor on cpu");
  float* data = static_cast<float*>(dst.data());
  const std::int64_t count = dst.numel();
#pragma omp parallel for num_threads(threads_) schedule(static) if (count > kParallelElements)
  for (std::int64_t i = 0; i < count; ++i) data[i] = value;
}

}  // namespace r50
