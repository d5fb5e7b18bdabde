// Elementwise kernels over strided operands of one shape (broadcast strides may be 0).
//
// The host builds a StridedMeta: size-1 dims dropped, and adjacent dims merged whenever every
// operand steps through them as one (stride[outer] == stride[inner] * size[inner]), so a
// contiguous operand becomes a single dim. A kernel thread turns the row-major element index i
// into one offset per operand by peeling dims off the end:
//   off_k = sum_d idx_d * strides[k][d],  idx_d = (i / prod_{e>d} shape[e]) mod shape[d]
// in 32-bit arithmetic when the element count allows it (integer division is the cost here).
#pragma once
#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <vector>

#include "tensor/cuda/check.h"
#include "tensor/cuda/context.h"
#include "tensor/shape.h"

namespace petl::cuda {

constexpr int kMaxDims = 12;
constexpr int kElementwiseThreads = 256;

template <int N>
struct StridedMeta {
  int nd = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};
};

template <int N>
StridedMeta<N> make_strided_meta(const Shape& shape, const std::array<const Strides*, N>& strides) {
  std::vector<int64_t> dims;
  std::vector<std::array<int64_t, N>> steps;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    std::array<int64_t, N> s;
    for (int k = 0; k < N; ++k) s[size_t(k)] = (*strides[size_t(k)])[d];
    bool merge = !dims.empty();
    for (int k = 0; merge && k < N; ++k) merge = steps.back()[size_t(k)] == s[size_t(k)] * shape[d];
    if (merge) {
      dims.back() *= shape[d];
      steps.back() = s;
    } else {
      dims.push_back(shape[d]);
      steps.push_back(s);
    }
  }
  PETL_CHECK(int(dims.size()) <= kMaxDims, "CUDA: elementwise op over shape ", shape_str(shape), " needs ",
             dims.size(), " strided dims after merging, at most ", kMaxDims, " are supported");
  StridedMeta<N> m;
  m.nd = int(dims.size());
  for (int d = 0; d < m.nd; ++d) {
    m.shape[d] = dims[size_t(d)];
    for (int k = 0; k < N; ++k) m.strides[k][d] = steps[size_t(d)][size_t(k)];
  }
  return m;
}

// Every operand is dense in row-major order: offset == element index.
template <int N>
bool is_dense(const StridedMeta<N>& m) {
  if (m.nd == 0) return true;
  if (m.nd > 1) return false;
  for (int k = 0; k < N; ++k)
    if (m.strides[k][0] != 1) return false;
  return true;
}

template <int N, class Index>
__device__ __forceinline__ void strided_offsets(const StridedMeta<N>& m, Index i, int64_t (&off)[N]) {
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = m.nd - 1; d >= 0; --d) {
    const Index size = Index(m.shape[d]);
    const Index q = i / size;
    const Index idx = i - q * size;
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += int64_t(idx) * m.strides[k][d];
    i = q;
  }
}

// Mode 0: dense (offsets are i); 1: 32-bit index arithmetic; 2: 64-bit.
template <int N, int Mode, class F>
__global__ void strided_kernel(StridedMeta<N> m, int64_t n, F f) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[N];
    if constexpr (Mode == 0) {
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] = i;
    } else if constexpr (Mode == 1) {
      strided_offsets<N, uint32_t>(m, uint32_t(i), off);
    } else {
      strided_offsets<N, uint64_t>(m, uint64_t(i), off);
    }
    f(i, off);
  }
}

// Runs f(i, off) for every element i of `shape` (row-major index), off[k] the element's offset in
// operand k, on the stream of device `ctx`. F is a functor with a __device__ operator().
template <int N, class F>
void launch_strided(const char* name, const Context& ctx, const Shape& shape,
                    const std::array<const Strides*, N>& strides, const F& f) {
  const int64_t n = numel_of(shape);
  if (n == 0) return;
  const StridedMeta<N> m = make_strided_meta<N>(shape, strides);
  const int blocks = grid_for(n, kElementwiseThreads, ctx);
  if (is_dense(m))
    strided_kernel<N, 0><<<blocks, kElementwiseThreads, 0, ctx.stream>>>(m, n, f);
  else if (n <= int64_t(UINT32_MAX))
    strided_kernel<N, 1><<<blocks, kElementwiseThreads, 0, ctx.stream>>>(m, n, f);
  else
    strided_kernel<N, 2><<<blocks, kElementwiseThreads, 0, ctx.stream>>>(m, n, f);
  PETL_CUDA_CHECK_LAUNCH(name);
}

}  // namespace petl::cuda
