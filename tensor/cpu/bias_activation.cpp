// The bias add and the activation after a Linear, fused (issue 11 §4): one pass over [rows, n]
//   forward   y = f(x + b)
//   backward  dx = g * f'(x + b),  db = sum_rows dx
// with f and f' from tensor/elementwise_math.h (GPT-2's gelu_new, BART's erf GELU), so the values
// are those of the unfused add and gelu. x + b is recomputed in backward instead of stored.
#include <vector>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"
#include "tensor/elementwise_math.h"

namespace petl {

namespace {

using elementwise::StdMath;

// The activation as a compile-time constant, so the per-element switch folds away.
template <class F>
void with_activation(UnaryOp op, F&& f) {
  PETL_CHECK(op == UnaryOp::GeluTanh || op == UnaryOp::GeluErf, "bias_activation: ", unary_op_name(op),
             " is not a fused activation (gelu_tanh or gelu_erf)");
  if (op == UnaryOp::GeluTanh) f(std::integral_constant<UnaryOp, UnaryOp::GeluTanh>{});
  else f(std::integral_constant<UnaryOp, UnaryOp::GeluErf>{});
}

}  // namespace

void CpuBackend::bias_activation(UnaryOp op, const Tensor& x, const Tensor& bias, const Tensor& out) {
  dispatch_float(x.dtype(), "bias_activation", [&](auto tag) {
    using T = typename decltype(tag)::type;
    with_activation(op, [&](auto act) {
      const int64_t n = x.shape().back(), rows = x.numel() / n;
      const T* px = x.data<T>();
      const T* pb = bias.data<T>();
      T* po = out.data<T>();
#pragma omp parallel for if (x.numel() >= cpu::kParallelGrain)
      for (int64_t r = 0; r < rows; ++r) {
        const T* xr = px + r * n;
        T* yr = po + r * n;
        for (int64_t j = 0; j < n; ++j) yr[j] = elementwise::apply_unary<StdMath>(act(), xr[j] + pb[j], T(0));
      }
    });
  });
}

void CpuBackend::bias_activation_backward(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& bias,
                                          const Tensor& dx, const Tensor& dbias) {
  dispatch_float(x.dtype(), "bias_activation_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    with_activation(op, [&](auto act) {
      const int64_t n = x.shape().back(), rows = x.numel() / n;
      const T* pg = g.data<T>();
      const T* px = x.data<T>();
      const T* pb = bias.data<T>();
      T* pdx = dx.defined() ? dx.data<T>() : nullptr;
      const int threads = x.numel() >= cpu::kParallelGrain ? omp_get_max_threads() : 1;
      // Per-thread partial sums of db, added up after the parallel loop (a fixed order: the result
      // does not depend on scheduling).
      std::vector<T> partial(dbias.defined() ? size_t(threads) * size_t(n) : 0, T(0));
#pragma omp parallel num_threads(threads)
      {
        T* db = dbias.defined() ? partial.data() + size_t(omp_get_thread_num()) * size_t(n) : nullptr;
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
          const T* gr = pg + r * n;
          const T* xr = px + r * n;
          T* dr = pdx ? pdx + r * n : nullptr;
          for (int64_t j = 0; j < n; ++j) {
            const T pre = xr[j] + pb[j];
            const T d = gr[j] * elementwise::unary_derivative<StdMath>(act(), pre, T(0), T(0));
            if (dr) dr[j] = d;
            if (db) db[j] += d;
          }
        }
      }
      if (!dbias.defined()) return;
      T* pdb = dbias.data<T>();
      for (int64_t j = 0; j < n; ++j) {
        T s = 0;
        for (int t = 0; t < threads; ++t) s += partial[size_t(t) * size_t(n) + size_t(j)];
        pdb[j] = s;
      }
    });
  });
}

}  // namespace petl
