// CPU counter-based random draws (tensor/random.h): element i at counter offset + i.
#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

void CpuBackend::random_uniform(const Tensor& out, double low, double high, uint64_t seed, uint64_t offset) {
  dispatch_float(out.dtype(), "uniform", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = out.data<T>();
    cpu::strided_loop<1>(out.shape(), {&out.strides()}, [&](int64_t i, auto o) {
      p[o[0]] = T(low + (high - low) * petl::random_uniform(seed, offset + uint64_t(i)));
    });
  });
}

void CpuBackend::random_normal(const Tensor& out, double mean, double std, uint64_t seed, uint64_t offset) {
  dispatch_float(out.dtype(), "randn", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = out.data<T>();
    // Element i uses the counters 2(offset/2 + i) and 2(offset/2 + i) + 1 (offset is reserved 2n).
    cpu::strided_loop<1>(out.shape(), {&out.strides()}, [&](int64_t i, auto o) {
      p[o[0]] = T(mean + std * petl::random_normal(seed, offset / 2 + uint64_t(i)));
    });
  });
}

}  // namespace petl
