// Compiled only when petl is built without a CUDA compiler: asking for a CUDA tensor is then a
// clear error rather than a link failure.
#include "tensor/allocator.h"
#include "tensor/backend.h"
#include "tensor/error.h"

namespace petl {

Backend& cuda_backend() {
  throw Error("CUDA: petl was built without CUDA support (no nvcc found at configure time); "
              "rebuild with the CUDA toolkit installed to use Device::cuda()");
}

CachingAllocator& cuda_allocator(int) {
  throw Error("CUDA: petl was built without CUDA support; cannot allocate device memory");
}

bool cuda_available() { return false; }

}  // namespace petl
