// CUDA and cuBLAS status checks: a failing call becomes petl::Error naming the call, the error
// and where it was made, e.g.
//   CUDA: cudaMalloc(&p, bytes) failed: cudaErrorMemoryAllocation (out of memory) at tensor/cuda/...:42
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "tensor/error.h"

namespace petl::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  // Clear the thread's last-error slot: a non-sticky error (a bad argument, out of memory) would
  // otherwise be reported again by the next launch check.
  (void)cudaGetLastError();
  throw Error(detail::concat("CUDA: ", call, " failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err),
                             ") at ", file, ":", line));
}

[[noreturn]] inline void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw Error(detail::concat("cuBLAS: ", call, " failed: ", cublasGetStatusName(status), " (",
                             cublasGetStatusString(status), ") at ", file, ":", line));
}

inline void check_launch(const char* kernel_name, const char* file, int line) {
  const cudaError_t err = cudaGetLastError();  // also clears the slot
  if (err != cudaSuccess)
    throw Error(detail::concat("CUDA: launch of kernel ", kernel_name, " failed: ", cudaGetErrorName(err), " (",
                               cudaGetErrorString(err), ") at ", file, ":", line));
}

}  // namespace petl::cuda

#define PETL_CUDA_CHECK(call)                                                          \
  do {                                                                                 \
    const cudaError_t petl_cuda_err_ = (call);                                         \
    if (petl_cuda_err_ != cudaSuccess)                                                 \
      ::petl::cuda::throw_cuda_error(petl_cuda_err_, #call, __FILE__, __LINE__);       \
  } while (0)

#define PETL_CUBLAS_CHECK(call)                                                        \
  do {                                                                                 \
    const cublasStatus_t petl_cublas_status_ = (call);                                 \
    if (petl_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                  \
      ::petl::cuda::throw_cublas_error(petl_cublas_status_, #call, __FILE__, __LINE__); \
  } while (0)

// After a <<<...>>> launch: reports a bad configuration (too many threads, too much shared
// memory) naming the kernel. Faults inside the kernel surface at the next synchronizing call.
#define PETL_CUDA_CHECK_LAUNCH(kernel_name) ::petl::cuda::check_launch(kernel_name, __FILE__, __LINE__)
