// Cross-entropy over logits, one row per example:
//   loss_i = logsumexp(x_i) - x_i[t_i]        (rows with t_i == ignore_index contribute nothing)
//   dloss_i / dx_i = softmax(x_i) - onehot(t_i)
#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

void CpuBackend::cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                               const Tensor& loss_sum, const Tensor& lse) {
  dispatch_float(logits.dtype(), "cross_entropy", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const int64_t rows = logits.size(0), n = logits.size(1);
    const scalar_t* px = logits.data<scalar_t>();
    const int64_t* pt = targets.data<int64_t>();
    scalar_t* plse = lse.data<scalar_t>();
    double total = 0.0;
#pragma omp parallel for reduction(+ : total) if (logits.numel() >= cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* xr = px + r * n;
      scalar_t m = -std::numeric_limits<scalar_t>::infinity();
      for (int64_t j = 0; j < n; ++j) m = std::max(m, xr[j]);
      scalar_t sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(xr[j] - m);
      plse[r] = m + std::log(sum);
      if (pt[r] != ignore_index) total += double(plse[r] - xr[pt[r]]);
    }
    *loss_sum.data<scalar_t>() = scalar_t(total);
  });
}

void CpuBackend::cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                                        int64_t ignore_index, double scale, const Tensor& dlogits) {
  dispatch_float(logits.dtype(), "cross_entropy_backward", [&](auto tag_) {
    using scalar_t = typename decltype(tag_)::type;
    const int64_t rows = logits.size(0), n = logits.size(1);
    const scalar_t* px = logits.data<scalar_t>();
    const int64_t* pt = targets.data<int64_t>();
    const scalar_t* plse = lse.data<scalar_t>();
    scalar_t* pd = dlogits.data<scalar_t>();
    const scalar_t s = scalar_t(scale);
#pragma omp parallel for if (logits.numel() >= cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      scalar_t* dr = pd + r * n;
      if (pt[r] == ignore_index) {
        std::fill(dr, dr + n, scalar_t(0));
        continue;
      }
      const scalar_t* xr = px + r * n;
      for (int64_t j = 0; j < n; ++j) dr[j] = s * std::exp(xr[j] - plse[r]);
      dr[pt[r]] -= s;
    }
  });
}

}  // namespace petl
