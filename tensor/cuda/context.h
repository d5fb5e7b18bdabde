// Per-device state of the CUDA backend: one non-blocking stream per device on which every petl
// kernel, copy and cuBLAS call is queued (so work on a device runs in issue order and the caching
// allocator may hand a freed block to the next op without a sync), and one cuBLAS handle bound to
// that stream. Created on first use, kept for the life of the process.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "tensor/tensor.h"

namespace petl::cuda {

// Visible devices; 0 when there is no driver or no GPU. Never throws; computed once.
int device_count();
// Why device_count() is 0 (the CUDA error string), or "" when devices exist.
const std::string& no_device_reason();

struct Context {
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  int sm_count = 0;
  int max_shared_optin = 0;  // bytes of shared memory a block may opt into
  int cublas_tf32 = -1;      // math mode last set on the handle: 1 TF32, 0 default, -1 not yet
};

// Makes `device` current on the calling thread and returns its context (created on first use).
// Throws petl::Error for an index outside [0, device_count()).
Context& context(int device);
inline Context& context_of(const Tensor& t) { return context(t.device().index); }
inline cudaStream_t stream_of(const Tensor& t) { return context_of(t).stream; }

// cudaSetDevice unless `device` is already current on this thread.
void set_current_device(int device);

// Restores the thread's current device on scope exit.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// Grid size for a grid-stride loop over n items with `threads` per block: enough blocks to fill
// the device several times over, never more than needed.
int grid_for(int64_t n, int threads, const Context& ctx);

}  // namespace petl::cuda
