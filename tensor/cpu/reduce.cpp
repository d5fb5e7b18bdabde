// Sum / mean / max over the middle axis of a contiguous [outer, reduced, inner] block.
#include <algorithm>
#include <limits>
#include <vector>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

namespace {
// max that propagates NaN from either side, as torch.amax does (std::max(acc, NaN) keeps acc).
template <class T>
T nan_max(T a, T b) {
  return (a < b || b != b) ? b : a;
}
}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t reduced, int64_t inner,
                        const Tensor& out) {
  dispatch_float(x.dtype(), "reduce", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const bool is_max = op == ReduceOp::Max;
    const T init = is_max ? -std::numeric_limits<T>::infinity() : T(0);
    // The mean of no elements is NaN (0 * NaN), as in PyTorch and NumPy.
    const T post = op != ReduceOp::Mean ? T(1) : reduced > 0 ? T(1) / T(reduced) : std::numeric_limits<T>::quiet_NaN();
    const bool big = outer * reduced * inner >= cpu::kParallelGrain;
    if (inner == 1) {
      // Each output is a contiguous run of `reduced` elements.
      if (outer >= omp_get_max_threads() || !big) {
#pragma omp parallel for if (big)
        for (int64_t o = 0; o < outer; ++o) {
          const T* row = px + o * reduced;
          T acc = init;
          if (is_max) {
            for (int64_t r = 0; r < reduced; ++r) acc = nan_max(acc, row[r]);
          } else {
#pragma omp simd reduction(+ : acc)
            for (int64_t r = 0; r < reduced; ++r) acc += row[r];
          }
          po[o] = acc * post;
        }
      } else {
        for (int64_t o = 0; o < outer; ++o) {  // few long rows: split each row across threads
          const T* row = px + o * reduced;
          T acc = init;
          if (is_max) {
            // OpenMP's max reduction may drop NaN, so NaN is tracked on the side.
            bool saw_nan = false;
#pragma omp parallel for reduction(max : acc) reduction(|| : saw_nan)
            for (int64_t r = 0; r < reduced; ++r) {
              acc = std::max(acc, row[r]);
              saw_nan = saw_nan || row[r] != row[r];
            }
            if (saw_nan) acc = std::numeric_limits<T>::quiet_NaN();
          } else {
            // Each thread sums its static share; the shares are added in thread order, so a run
            // gives the same bits every time at any thread count (an OpenMP `reduction(+)` adds
            // the shares in the order the threads finish, which varies from run to run with 3+).
            std::vector<T> share(size_t(omp_get_max_threads()), T(0));
#pragma omp parallel num_threads(int(share.size()))
            {
              T local = T(0);
#pragma omp for schedule(static)
              for (int64_t r = 0; r < reduced; ++r) local += row[r];
              share[size_t(omp_get_thread_num())] = local;
            }
            for (const T s : share) acc += s;
          }
          po[o] = acc * post;
        }
      }
      return;
    }
    // inner > 1: accumulate whole rows of `inner` elements, threads split (outer, inner) blocks.
    constexpr int64_t kBlock = 256;
    const int64_t blocks = (inner + kBlock - 1) / kBlock;
#pragma omp parallel for collapse(2) if (big)
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t j0 = blk * kBlock, j1 = std::min(inner, j0 + kBlock);
        T* dst = po + o * inner;
        for (int64_t j = j0; j < j1; ++j) dst[j] = init;
        for (int64_t r = 0; r < reduced; ++r) {
          const T* src = px + (o * reduced + r) * inner;
          if (is_max) {
            for (int64_t j = j0; j < j1; ++j) dst[j] = nan_max(dst[j], src[j]);
          } else {
#pragma omp simd
            for (int64_t j = j0; j < j1; ++j) dst[j] += src[j];
          }
        }
        for (int64_t j = j0; j < j1; ++j) dst[j] *= post;
      }
    }
  });
}

// amax backward: dx = g * [x == max] / (number of elements equal to the max).
void CpuBackend::max_backward(const Tensor& g, const Tensor& x, const Tensor& y, int64_t outer, int64_t reduced,
                              int64_t inner, const Tensor& out) {
  dispatch_float(x.dtype(), "max_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pg = g.data<T>();
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for collapse(2) if (outer * reduced * inner >= cpu::kParallelGrain)
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < inner; ++j) {
        const T m = py[o * inner + j];
        int64_t ties = 0;
        for (int64_t r = 0; r < reduced; ++r) ties += px[(o * reduced + r) * inner + j] == m;
        const T share = pg[o * inner + j] / T(std::max<int64_t>(ties, 1));
        for (int64_t r = 0; r < reduced; ++r) {
          const int64_t at = (o * reduced + r) * inner + j;
          po[at] = px[at] == m ? share : T(0);
        }
      }
    }
  });
}

}  // namespace petl
