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
  dispatch_float(x.dtype(), "softmax", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const int64_t n = x.shape().back(), rows = x.numel() / n;
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
#pragma omp parallel for if (x.numel() >= cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* xr = px + r * n;
      scalar_t* yr = po + r * n;
      scalar_t m = -std::numeric_limits<scalar_t>::infinity();
      for (int64_t j = 0; j < n; ++j) m = std::max(m, xr[j]);
      scalar_t sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        yr[j] = std::exp(xr[j] - m);
        sum += yr[j];
      }
      if (log) {
        const scalar_t shift = m + std::log(sum);
        for (int64_t j = 0; j < n; ++j) yr[j] = xr[j] - shift;
      } else {
        const scalar_t inv = scalar_t(1) / sum;
        for (int64_t j = 0; j < n; ++j) yr[j] *= inv;
      }
    }
  });
}

void CpuBackend::softmax_backward(const Tensor& g, const Tensor& y, bool log, const Tensor& out) {
  dispatch_float(y.dtype(), "softmax_backward", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const int64_t n = y.shape().back(), rows = y.numel() / n;
    const scalar_t* pg = g.data<scalar_t>();
    const scalar_t* py = y.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
#pragma omp parallel for if (y.numel() >= cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* gr = pg + r * n;
      const scalar_t* yr = py + r * n;
      scalar_t* dr = po + r * n;
      scalar_t dot = 0;
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
