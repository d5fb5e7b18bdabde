// Cross-entropy over logits, one row per example:
//   loss_i = logsumexp(x_i) - x_i[t_i]        (rows with t_i == ignore_index contribute nothing)
//   dloss_i / dx_i = softmax(x_i) - onehot(t_i)
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

void CpuBackend::cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                               const Tensor& loss_sum, const Tensor& lse) {
  dispatch_float(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t rows = logits.size(0), n = logits.size(1);
    const T* px = logits.data<T>();
    const int64_t* pt = targets.data<int64_t>();
    T* plse = lse.data<T>();
    // Each row's loss is kept and the rows are added in order afterwards: the same bits at any
    // thread count and in every run (an OpenMP `reduction(+)` adds per-thread sums in the order the
    // threads finish).
    std::vector<double> row_loss(size_t(rows), 0.0);
#pragma omp parallel for if (logits.numel() >= cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = px + r * n;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < n; ++j) m = std::max(m, xr[j]);
      T sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(xr[j] - m);
      plse[r] = m + std::log(sum);
      if (pt[r] != ignore_index) row_loss[size_t(r)] = double(plse[r] - xr[pt[r]]);
    }
    double total = 0.0;
    for (const double l : row_loss) total += l;
    *loss_sum.data<T>() = T(total);
  });
}

void CpuBackend::cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                                        int64_t ignore_index, double scale, const Tensor& dlogits) {
  dispatch_float(logits.dtype(), "cross_entropy_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t rows = logits.size(0), n = logits.size(1);
    const T* px = logits.data<T>();
    const int64_t* pt = targets.data<int64_t>();
    const T* plse = lse.data<T>();
    T* pd = dlogits.data<T>();
    const T s = T(scale);
#pragma omp parallel for if (logits.numel() >= cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      T* dr = pd + r * n;
      if (pt[r] == ignore_index) {
        std::fill(dr, dr + n, T(0));
        continue;
      }
      const T* xr = px + r * n;
      for (int64_t j = 0; j < n; ++j) dr[j] = s * std::exp(xr[j] - plse[r]);
      dr[pt[r]] -= s;
    }
  });
}

}  // namespace petl
