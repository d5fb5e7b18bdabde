// Entry points of the CUDA backend (backend selection, availability, synchronization) and
// the device caching allocator.
#include "tensor/cuda/backend.h"

#include <memory>
#include <mutex>
#include <vector>

#include "tensor/allocator.h"
#include "tensor/cuda/check.h"
#include "tensor/cuda/context.h"
#include "tensor/cuda/settings.h"

namespace petl {

bool cuda_available() { return cuda::device_count() > 0; }

Backend& cuda_backend() {
  PETL_CHECK(cuda_available(), "CUDA: no CUDA device is available (", cuda::no_device_reason(),
             "); Device::cuda() tensors need a GPU");
  static CudaBackend* backend = new CudaBackend();  // never destroyed: tensors may outlive statics
  return *backend;
}

void CudaBackend::synchronize() { cuda::synchronize_all(); }

// ---- allocator

namespace {

class CudaAllocator final : public CachingAllocator {
 public:
  explicit CudaAllocator(int device) : device_(device) {}

 protected:
  void* system_allocate(std::size_t bytes) override {
    cuda::DeviceGuard guard(device_);
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();  // out of memory is not sticky: clear it; allocate() empties the cache and retries
      return nullptr;
    }
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      throw Error(detail::concat("CUDA: cudaMalloc(", bytes, " bytes) on cuda:", device_, " failed: ",
                                 cudaGetErrorName(err), " (", cudaGetErrorString(err), ")"));
    }
    return p;
  }

  std::string out_of_memory_details() const override {
    std::size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) (void)cudaGetLastError();
    return detail::concat("; cudaMalloc on cuda:", device_, " failed: ", cudaGetErrorName(cudaErrorMemoryAllocation),
                          " (", cudaGetErrorString(cudaErrorMemoryAllocation), "); ", free_bytes >> 20, " MiB free of ",
                          total_bytes >> 20, " MiB");
  }

  void system_free(void* ptr) override {
    cuda::DeviceGuard guard(device_);
    const cudaError_t err = cudaFree(ptr);  // synchronizes the device: no kernel still uses ptr
    if (err == cudaErrorCudartUnloading) return;  // process teardown: the driver frees everything
    PETL_CUDA_CHECK(err);
  }

 private:
  int device_;
};

}  // namespace

CachingAllocator& cuda_allocator(int index) {
  const int count = cuda::device_count();
  PETL_CHECK(count > 0, "CUDA: no CUDA device is available (", cuda::no_device_reason(),
             "); cannot allocate memory on cuda:", index);
  PETL_CHECK(index >= 0 && index < count, "CUDA: device cuda:", index, " does not exist (", count,
             " device(s) visible)");
  static std::mutex mutex;
  static auto* allocators = new std::vector<std::unique_ptr<CudaAllocator>>();  // never destroyed
  std::lock_guard<std::mutex> lock(mutex);
  if (allocators->size() < size_t(count)) allocators->resize(size_t(count));
  auto& slot = (*allocators)[size_t(index)];
  if (!slot) slot = std::make_unique<CudaAllocator>(index);
  return *slot;
}

}  // namespace petl
