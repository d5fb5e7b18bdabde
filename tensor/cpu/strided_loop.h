// Parallel iteration over the elements of strided tensors of one shape.
//
// strided_loop<N>(shape, {strides_0, ..., strides_N-1}, f) calls f(i, {off_0, ..., off_N-1}) for
// every row-major element index i, where off_k is that element's offset in operand k. The index
// space is cut into one contiguous chunk per thread; each chunk walks an odometer, so the cost per
// element is an add per operand, whatever the strides.
#pragma once
#include <array>
#include <cstdint>

#include <omp.h>

#include "tensor/error.h"
#include "tensor/shape.h"

namespace petl::cpu {

constexpr int64_t kParallelGrain = 16384;  // below this many elements one thread is faster
constexpr int kMaxDims = 16;

template <size_t N, class F>
void strided_loop(const Shape& shape, const std::array<const Strides*, N>& strides, F&& f) {
  const int64_t numel = numel_of(shape);
  if (numel == 0) return;
  const int nd = int(shape.size());
  PETL_CHECK(nd <= kMaxDims, "elementwise loop: tensors of ", nd, " dims are not supported (at most ", kMaxDims, ")");
  if (nd == 0) {
    f(int64_t(0), std::array<int64_t, N>{});
    return;
  }
  const int threads = numel >= kParallelGrain ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(threads)
  {
    const int64_t nthreads = omp_get_num_threads(), tid = omp_get_thread_num();
    const int64_t begin = numel * tid / nthreads, end = numel * (tid + 1) / nthreads;
    if (begin < end) {
      int64_t idx[kMaxDims] = {};
      std::array<int64_t, N> off{};
      int64_t rem = begin;
      for (int d = nd - 1; d >= 0; --d) {
        idx[d] = rem % shape[size_t(d)];
        rem /= shape[size_t(d)];
        for (size_t k = 0; k < N; ++k) off[k] += idx[d] * (*strides[k])[size_t(d)];
      }
      std::array<int64_t, N> step;
      for (size_t k = 0; k < N; ++k) step[k] = (*strides[k])[size_t(nd - 1)];
      const int64_t last = shape[size_t(nd - 1)];
      for (int64_t i = begin; i < end;) {
        const int64_t run = std::min(last - idx[nd - 1], end - i);
        for (int64_t j = 0; j < run; ++j) {
          f(i + j, off);
          for (size_t k = 0; k < N; ++k) off[k] += step[k];
        }
        i += run;
        idx[nd - 1] += run;
        // Carry into outer dims when the last one wraps.
        for (int d = nd - 1; d > 0 && idx[d] == shape[size_t(d)]; --d) {
          for (size_t k = 0; k < N; ++k) off[k] += (*strides[k])[size_t(d - 1)] - idx[d] * (*strides[k])[size_t(d)];
          idx[d] = 0;
          ++idx[d - 1];
        }
      }
    }
  }
}

// True when every operand is contiguous in the row-major sense of `shape`.
inline bool all_contiguous(const Shape& shape, std::initializer_list<const Strides*> strides) {
  const Strides want = contiguous_strides(shape);
  for (const Strides* s : strides)
    for (size_t d = 0; d < shape.size(); ++d)
      if (shape[d] != 1 && (*s)[d] != want[d]) return false;
  return true;
}

}  // namespace petl::cpu
