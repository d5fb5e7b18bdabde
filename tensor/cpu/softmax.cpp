// Row-wise softmax and log-softmax (last axis of a contiguous [rows, n] tensor).
//   softmax:      y_j = exp(x_j - m) / sum_k exp(x_k - m),  m = max_k x_k
//   log-softmax:  y_j = x_j - m - log sum_k exp(x_k - m)
// Backward:       softmax:     dx = y * (g - sum(g * y))
//                 log-softmax: dx = g - exp(y) * sum(g)
#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

void CpuBackend::softmax(const Tensor& x, bool log, const Tensor& out) {
  dispatch_float(x.dtype(), "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t n = x.shape().back(), rows = x.numel() / n;
    const T* px = x.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for if (x.numel() >= cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = px + r * n;
      T* yr = po + r * n;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < n; ++j) m = std::max(m, xr[j]);
      T sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        yr[j] = std::exp(xr[j] - m);
        sum += yr[j];
      }
      if (log) {
        const T shift = m + std::log(sum);
        for (int64_t j = 0; j < n; ++j) yr[j] = xr[j] - shift;
      } else {
        const T inv = T(1) / sum;
        for (int64_t j = 0; j < n; ++j) yr[j] *= inv;
      }
    }
  });
}

void CpuBackend::softmax_backward(const Tensor& g, const Tensor& y, bool log, const Tensor& out) {
  dispatch_float(y.dtype(), "softmax_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t n = y.shape().back(), rows = y.numel() / n;
    const T* pg = g.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for if (y.numel() >= cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const T* gr = pg + r * n;
      const T* yr = py + r * n;
      T* dr = po + r * n;
      T dot = 0;
      if (log) {
        for (int64_t j = 0; j < n; ++j) dot += gr[j];
        for (int64_t j = 0; j < n; ++j) dr[j] = gr[j] - std::exp(yr[j]) * dot;
      } else {
        for (int64_t j = 0; j < n; ++j) dot += gr[j] * yr[j];
        for (int64_t j = 0; j < n; ++j) dr[j] = yr[j] * (gr[j] - dot);
      }
    }
  });
}

}  // namespace petl
