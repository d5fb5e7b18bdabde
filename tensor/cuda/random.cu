// CUDA counter-based random draws. They use the same functions of tensor/random.h as the CPU
// backend, element i at counter offset + i (normal: offset/2 + i), so both devices produce the
// same values for the same (seed, offset).
#include <cmath>

#include "tensor/cuda/backend.h"
#include "tensor/cuda/strided_loop.cuh"
#include "tensor/random.h"

namespace petl {

namespace {

// low + (high - low) * u, written as the fused multiply-add that GCC emits for the CPU backend's
// expression on FMA hardware (x86-64 with -march=native), so the rounding matches there.
template <class T>
struct UniformFn {
  T* p;
  double low, range;
  uint64_t seed, offset;
  __device__ void operator()(int64_t i, const int64_t (&off)[1]) const {
    p[off[0]] = T(fma(range, petl::random_uniform(seed, offset + uint64_t(i)), low));
  }
};

template <class T>
struct NormalFn {
  T* p;
  double mean, std;
  uint64_t seed, first;  // first = offset / 2: element i uses counters 2(first + i), 2(first + i) + 1
  __device__ void operator()(int64_t i, const int64_t (&off)[1]) const {
    p[off[0]] = T(fma(std, petl::random_normal(seed, first + uint64_t(i)), mean));
  }
};

}  // namespace

void CudaBackend::random_uniform(const Tensor& out, double low, double high, uint64_t seed, uint64_t offset) {
  dispatch_float(out.dtype(), "uniform", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cuda::launch_strided<1>("uniform", cuda::context_of(out), out.shape(), {&out.strides()},
                            UniformFn<T>{out.data<T>(), low, high - low, seed, offset});
  });
}

void CudaBackend::random_normal(const Tensor& out, double mean, double std, uint64_t seed, uint64_t offset) {
  dispatch_float(out.dtype(), "randn", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cuda::launch_strided<1>("randn", cuda::context_of(out), out.shape(), {&out.strides()},
                            NormalFn<T>{out.data<T>(), mean, std, seed, offset / 2});
  });
}

}  // namespace petl
